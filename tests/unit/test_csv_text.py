"""The sweep's CSV writer against pandas' ``to_csv`` (the reference it must match byte for byte)."""

import numpy as np
import pandas as pd
import pytest

from accelsim.dse.csv_text import SHORT_TABLE_ROWS, _joined_text, csv_text

NASTY = ["plain", "", "with,comma", 'say "hi"', "two\nlines", "cr\rhere", " lead", "trail ", "naïve", "a;b", "'q'"]


def _random_table(seed: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.standard_normal(rows) * 10.0 ** rng.integers(-30, 30, rows)
    floats[rng.random(rows) < 0.2] = np.nan
    specials = np.array([0.0, -0.0, np.inf, -np.inf, 1e16, 1e15, 1e-4, 1e-5, 0.1, 5e-324, 1.7976931348623157e308])
    floats[: min(rows, len(specials))] = specials[: min(rows, len(specials))]
    ints = rng.integers(-2**62, 2**62, rows)
    masked = pd.array(rng.integers(0, 10**12, rows), dtype="Int64")
    masked[rng.random(rows) < 0.3] = pd.NA
    texts = [NASTY[i] for i in rng.integers(0, len(NASTY), rows)]
    optional = pd.array([None if rng.random() < 0.3 else t for t in texts], dtype="string")
    objects = np.array([None if i % 7 == 0 else (1.5 * i if i % 3 else t) for i, t in enumerate(texts)], dtype=object)
    return pd.DataFrame({
        "key": [f"k{i}" for i in range(rows)], "float": floats, "int": ints, "Int64": masked,
        "bool": rng.random(rows) < 0.5, "str": pd.Series(texts, dtype="str"), "string": optional,
        "object": objects, "Float64": pd.array(np.where(rng.random(rows) < 0.3, np.nan, floats), dtype="Float64"),
        'odd, "name"': rng.integers(0, 3, rows),
    })


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rows", [0, 1, 17, 400])
def test_same_text_as_pandas(seed, rows):
    table = _random_table(seed, rows)
    assert _joined_text(table) == table.to_csv(index=False)  # the fast path, whatever the length


def test_long_table_takes_the_fast_path_and_matches():
    table = _random_table(7, SHORT_TABLE_ROWS + 5)
    assert csv_text(table) == table.to_csv(index=False)


@pytest.mark.parametrize("table", [
    pd.DataFrame({"only": ["", "a"]}),                                     # one column: csv quotes an empty row
    pd.DataFrame({"f32": np.array([0.1, 1 / 3], dtype=np.float32), "x": [1, 2]}),
    pd.DataFrame({"when": pd.to_datetime(["2024-01-01", "2025-06-30"]), "x": [1, 2]}),
    pd.DataFrame({"cat": pd.Categorical([0.1, 0.2]), "x": [1, 2]}),
    pd.DataFrame([[1, 2]], columns=["a", "a"]),
])
def test_kinds_pandas_writes_its_own_way(table):
    assert csv_text(table) == table.to_csv(index=False)


def test_repeated_values_are_written_as_pandas_writes_each():
    """Columns of a few values repeated over many rows (a sweep's layer table), with values that are
    equal but print differently: 0.0 and -0.0; 1, 1.0 and True in one object column; and missing
    values of every kind between them (a text column of nothing else)."""
    rows = 3 * SHORT_TABLE_ROWS
    rng = np.random.default_rng(11)
    pick = rng.integers(0, 4, rows)
    floats = np.array([0.0, -0.0, 0.1, np.nan])[pick]
    objects = np.array([1, 1.0, True, None], dtype=object)[pick]
    table = pd.DataFrame({
        "float": floats, "int": np.array([7, -7, 2**62, 0])[pick],
        "Int64": pd.array([3, None, 3, 4], dtype="Int64")[pick],
        "str": pd.Series(np.array(NASTY[:4], dtype=object)[pick], dtype="str"),
        "string": pd.array(["a,b", None, "a,b", 'q"'], dtype="string")[pick],
        "object": objects, "bool": pick % 2 == 0, "no text": pd.array([None] * rows, dtype="string"),
    })
    got, want = csv_text(table), table.to_csv(index=False)
    assert [(a, b) for a, b in zip(got.splitlines(), want.splitlines()) if a != b][:3] == []  # a short report
    assert got == want
