"""Reference of kernels/schedule.py (never imports accelsim.kernels).

The reference of the tables is the numpy lowering :func:`accelsim.lower.tiling.mapped_schedule`:
written independently of the kernel, vectorised over the folds (one array expression per traffic
rule, Python integers where a share could pass int64), where the kernel walks the folds one by one.
The reference of the memory plan's scaling (``scale_dram_rows``) is :func:`ref_scaled_tables`,
plain Python integers fold by fold.
"""

from __future__ import annotations

from accelsim.lower.tiling import mapped_schedule as ref_schedule

__all__ = ["ref_schedule", "ref_scaled_tables"]

_REDUCTION_LOOP = {"os": "t", "ws": "r", "is": "r"}  # the loop over k (docs/timing_models.md)


def ref_scaled_tables(schedule, fractions, order: str, dataflow: str, first_fold: int = 0,
                      rounding: int = 0, sums: list | None = None) -> list[list[list[int]]]:
    """``[words, bytes]`` DRAM tables of ``schedule`` (fold ``first_fold`` of the loop ``order``
    onwards) under the memory plan's ``fractions`` (ifmap, filter, output writes): in each
    column, the running total over the folds times the fraction, rounded down, differenced; the
    output column over the folds that finish their tile's reduction (every fold when the
    schedule spreads its drain) only, the partial-sum read-back column untouched. ``rounding`` -1
    or 1: each fold's value times the fraction alone, rounded down or up; ``sums`` (a list) then
    receives, per table and column scaled (fraction other than 1), ``[sum of the folds' values,
    sum of their scaled values]`` over the folds scaled."""
    count = {"r": schedule.row_folds, "c": schedule.col_folds, "t": schedule.t_tiles}
    shape = [count[loop] for loop in order]
    reduce = _REDUCTION_LOOP[dataflow]
    tables = []
    for table in (schedule.dram_words, schedule.dram_bytes):
        rows = [[int(value) for value in row] for row in table]
        table_sums = []
        for column, fraction in enumerate(fractions):
            running = before = 0
            table_sums.append([0, 0])
            for f, row in enumerate(rows):
                g = first_fold + f
                index = dict(zip(order, (g // (shape[1] * shape[2]), g // shape[2] % shape[1], g % shape[2])))
                if column == 2 and not schedule.spread_drain and index[reduce] != count[reduce] - 1:
                    continue
                if rounding:
                    if fraction == 1:
                        continue
                    product = row[column] * fraction.numerator
                    table_sums[-1][0] += row[column]
                    down, up = product // fraction.denominator, -(-product // fraction.denominator)
                    row[column] = down if rounding < 0 else up
                    table_sums[-1][1] += row[column]
                    continue
                running += row[column]
                scaled = running * fraction.numerator // fraction.denominator
                row[column] = scaled - before
                before = scaled
        tables.append(rows)
        if sums is not None:
            sums.append(table_sums)
    return tables
