"""A table's CSV text, byte for byte what ``DataFrame.to_csv(index=False)`` writes, in a fraction of the time.

pandas formats each cell through numpy's ``astype(str)`` and the :mod:`csv` writer, ~0.4 s for
the worked sweep's 6,050 x 68 layer table (``benchmarks/bench_sweep.py``). Here each column
becomes its strings in one pass, each distinct value formatted once (floats through ``repr``, which
numpy's float-to-text matches: both print the shortest text that reads back the same double), and
rows are joined once.
The rules pandas applies, kept: a missing value (None, NaN, ``pd.NA``) is empty, booleans are
``True``/``False``, and a field with the separator, a quote or a line break goes through the
:mod:`csv` writer (``csv.QUOTE_MINIMAL``, as pandas). Tables with one column (where the :mod:`csv`
writer quotes an empty row), columns of other kinds (dates, float32, complex: pandas formats them
its own way) and short tables (:data:`SHORT_TABLE_ROWS`) go to pandas itself.
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import pandas as pd

_SPECIAL = (",", '"', "\n", "\r")


def _quoted(text: str) -> str:
    """``text`` as a QUOTE_MINIMAL CSV field (the rare one with a special character: as the
    :mod:`csv` writer of this Python writes it, which pandas uses)."""
    if any(char in text for char in _SPECIAL):
        sink = io.StringIO()
        csv.writer(sink, lineterminator=os.linesep).writerow([text])
        return sink.getvalue()[:-len(os.linesep)]
    return text


def _plain(dtype) -> bool:
    """Whether :func:`_column_text` writes ``dtype`` as pandas does: 64-bit floats, integers,
    booleans, text and other objects (not dates, durations, categories, complex or narrower floats)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    return dtype.kind in "iubOSUT" or (dtype.kind == "f" and dtype.itemsize == 8)


def _column_text(column: pd.Series) -> np.ndarray:
    """Each cell of ``column`` (of a :func:`_plain` dtype) as its CSV field (an object array). Each
    distinct value is formatted once (a sweep's layer table repeats a few values per column over
    thousands of rows): floats told apart by their bits (``0.0`` and ``-0.0`` print differently),
    integers and strings by value, anything else by its text (``1`` and ``1.0`` in an object column
    are equal but print differently). Missing cells are found from the values where that is exact
    (NaN in a numpy float column, none in a numpy integer or boolean one), else from the array."""
    dtype = column.dtype
    extension = not isinstance(dtype, np.dtype)
    if dtype.kind == "f":
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = column.array.isna() if extension else np.isnan(values)
        codes, distinct = pd.factorize(values.view(np.int64))
        texts = list(map(repr, distinct.view(np.float64).tolist()))
    elif dtype.kind in "iub":  # numpy or nullable (``Int64``, ``boolean``) integers and booleans
        missing = column.array.isna() if extension else None
        codes, distinct = pd.factorize(column.to_numpy(dtype=getattr(dtype, "numpy_dtype", dtype), na_value=0))
        texts = list(map(str, distinct.tolist()))
    elif isinstance(dtype, pd.StringDtype):  # text, or missing: code -1
        missing = None
        codes, distinct = pd.factorize(column.array)
        texts = list(map(_quoted, distinct.tolist()))
    else:
        values = column.to_numpy(dtype=object)
        missing = pd.isna(values)
        codes, distinct = pd.factorize(np.array(list(map(str, values.tolist())), dtype=object))
        texts = list(map(_quoted, distinct.tolist()))
    if missing is not None and missing.any():
        codes = np.where(missing, -1, codes)
    return np.array(texts + [""], dtype=object)[codes]  # code -1 picks the last, empty


SHORT_TABLE_ROWS = 2000
"""Below this many rows pandas is as fast (its cost per column is lower), and writes the table itself."""


def csv_text(table: pd.DataFrame) -> str:
    """``table.to_csv(index=False)``, the same text."""
    if (len(table) < SHORT_TABLE_ROWS or table.shape[1] < 2 or not table.columns.is_unique
            or not all(_plain(dtype) for dtype in table.dtypes)):
        return table.to_csv(index=False)
    return _joined_text(table)


def _joined_text(table: pd.DataFrame) -> str:
    """:func:`csv_text` of a table of two or more uniquely named columns of :func:`_plain` dtypes."""
    newline = os.linesep
    header = ",".join(_quoted(str(name)) for name in table.columns)
    columns = [_column_text(column).tolist() for _, column in table.items()]
    return header + newline + "".join(",".join(row) + newline for row in zip(*columns))
