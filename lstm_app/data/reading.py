"""Reading a data file's table: a CSV file, or a Parquet file or folder, every cell as a stripped
string; a file that is not CSV text (a spreadsheet, another binary format, a zip archive, UTF-16
or other non-UTF-8 text, a table separated by another character) refused in one line naming it.

    read_table(path, ",")       -> DataFrame    a CSV (`read_csv`) or Parquet (`read_parquet`) table
    is_parquet(path)            -> bool         by its name, its first bytes, or a folder
"""

import codecs
import zipfile
from pathlib import Path

import pandas as pd

from lstm_app.errors import DataError, first_line

# what a file given as a CSV may be instead, by its first bytes: (magic, what it is, what to do)
NOT_CSV = (
    (b"\xd0\xcf\x11\xe0", "an Excel workbook (.xls)", "save the sheet as CSV (UTF-8)"),
    (b"\x1f\x8b", "gzip-compressed", "name it *.csv.gz (read as is), or decompress it"),
    (b"%PDF", "a PDF document", "export its table as CSV (UTF-8)"),
    (b"SQLite format 3\x00", "an SQLite database", "export the table as CSV (UTF-8)"),
    (b"\x89HDF", "an HDF5 file", "write the table as CSV (UTF-8)"),
    (b"\x93NUMPY", "a NumPy array file", "write the array as CSV (UTF-8)"),
)
COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")  # pandas decompresses these itself
SNIFF_BYTES = 8192  # read to tell a binary file from text


def _not_csv(path: Path) -> str | None:
    """What the file at `path` is, and what to do, when its first bytes say it is a spreadsheet
    or another binary format rather than CSV text; None for text (or an unreadable file)."""
    if path.suffix.lower() in COMPRESSED:
        return None
    try:
        with open(path, "rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError:
        return None  # read_csv says why
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"{path}: UTF-16 text, not UTF-8; save it as CSV (UTF-8)"
    if head.startswith(b"PK\x03\x04"):
        what = _zip_kind(path)
    else:
        what = next(((kind, todo) for magic, kind, todo in NOT_CSV if head.startswith(magic)), None)
        if what is None and b"\x00" in head:
            what = "a binary file", "expected a CSV file (UTF-8 text)"
    if what is None:
        return None
    kind, todo = what
    if kind == "a binary file":
        return f"{path}: a binary file, not a CSV file (UTF-8 text); {todo}"
    return f"{path}: {kind}, not a CSV file; {todo}"


def _zip_kind(path: Path) -> tuple[str, str]:
    """What a zip archive given as a CSV holds: an Excel workbook, an OpenDocument sheet, or
    other files; and what to do."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        names = []
    if any(name.startswith("xl/") for name in names) or path.suffix.lower() in (".xlsx", ".xlsm"):
        return "an Excel workbook", "save the sheet as CSV (UTF-8)"
    if "content.xml" in names:
        return "an OpenDocument spreadsheet", "save the sheet as CSV (UTF-8)"
    return "a zip archive", "extract the CSV file from it, or name it *.csv.zip (read as is)"


def _first_non_utf8(path: Path) -> tuple[int, int] | None:
    """`(byte offset, line)` of the first byte in the file at `path` that is not UTF-8 (the
    offset from 0, the line from 1), read in blocks; None if there is none, or the file is
    compressed (pandas decompresses it: the offset would not be the file's)."""
    if path.suffix.lower() in COMPRESSED:
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = lines = 0  # bytes handed to the decoder so far, newlines among them
    try:
        with open(path, "rb") as file:
            while True:
                block = file.read(1 << 20)
                pending = decoder.getstate()[0]  # bytes of a character cut by the last block
                try:
                    decoder.decode(block, final=not block)
                except UnicodeDecodeError as err:
                    start = offset - len(pending) + err.start
                    seen = (pending + block)[: err.start]
                    return start, lines - pending.count(b"\n") + seen.count(b"\n") + 1
                if not block:
                    return None
                offset += len(block)
                lines += block.count(b"\n")
    except OSError:
        return None


def _separator_hint(frame: pd.DataFrame, separator: str) -> str | None:
    """When the header was read as one column whose name holds `;` or a tab (a file separated
    by another character than `separator`): the separator it looks like, as YAML; else None."""
    if len(frame.columns) != 1:
        return None
    header = str(frame.columns[0])
    for other, shown, yaml_text in (
        (";", "';'", "';'"),
        ("\t", "tabs", '"\\t"'),
        ("|", "'|'", "'|'"),
    ):
        if other != separator and other in header:
            return f"the header looks separated by {shown}: set data.separator: {yaml_text}"
    return None


def read_table(path: Path, separator: str = ",") -> pd.DataFrame:
    """Every cell of the data file as a stripped string: a CSV file (`read_csv`), or a Parquet
    file or folder of Parquet files (`read_parquet`)."""
    path = Path(path)
    if is_parquet(path):
        return read_parquet(path)
    return read_csv(path, separator)


def is_parquet(path: Path) -> bool:
    """Whether `path` is a Parquet file (by its name or its first bytes) or a folder."""
    if path.is_dir() or path.suffix.lower() == ".parquet":
        return True
    try:
        with open(path, "rb") as file:
            return file.read(4) == b"PAR1"
    except OSError:
        return False


def read_parquet(path: Path) -> pd.DataFrame:
    """Every cell of a Parquet file, or of the Parquet files of a folder read as one table, as a
    string, as `read_csv` gives a CSV's: empty cells `""`, times as ISO 8601 text. Messages
    count its rows as lines of the same table saved as CSV (the header is line 1).

    Raises DataError naming the file when it is missing, not Parquet, or a folder without
    Parquet files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.exists():
        raise DataError(f"{path}: data file not found (data.path)")
    if path.is_dir() and not any(path.glob("*.parquet")):
        raise DataError(
            f"{path}: a folder without .parquet files; expected a CSV or Parquet file, or a "
            "folder of Parquet files (data.path)"
        )
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"{path}: cannot be read as Parquet: {first_line(err)}") from None
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame.apply(_as_text)


def _as_text(column: pd.Series) -> pd.Series:
    """A column's cells as stripped strings; missing ones (None, NaN, NaT) as `""`."""
    missing = column.isna().to_numpy()
    text = column.astype(str).str.strip().to_numpy(dtype=object)
    text[missing] = ""
    return pd.Series(text, index=column.index, dtype=object)


def read_csv(path: Path, separator: str = ",") -> pd.DataFrame:
    """Every cell of a CSV file as a stripped string (header names stripped too), its cells
    separated by `separator` (`data.separator`).

    Raises DataError naming the file when it is missing, empty, not UTF-8 (with the byte and
    line), a spreadsheet or another binary file, not a CSV table, or a table of one column
    whose header looks separated by another character.
    """
    if not isinstance(separator, str) or len(separator) != 1 or separator in '\r\n"':
        raise DataError(
            f"{path}: data.separator: expected one character such as ',', ';' or \"\\t\", "
            f"got {separator!r}"
        )
    not_csv = _not_csv(path)
    if not_csv is not None:
        raise DataError(not_csv)
    try:
        frame = pd.read_csv(
            path,
            sep=separator,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            encoding="utf-8",
        )
    except FileNotFoundError:
        raise DataError(f"{path}: data file not found (data.path)") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a CSV file (data.path)") from None
    except UnicodeDecodeError as err:
        where = _first_non_utf8(path)
        at = f"(byte {where[0]}) at line {where[1]}" if where else f"(byte {err.start})"
        raise DataError(f"{path}: not UTF-8 text {at}; save it as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; expected a header row, then data") from None
    except pd.errors.ParserError as err:
        detail = str(err).strip().splitlines()[-1]
        raise DataError(f"{path}: cannot be read as CSV: {detail}") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read the data file: {err.strerror}") from None
    frame.columns = [str(name).strip() for name in frame.columns]
    hint = _separator_hint(frame, separator)
    if hint is not None:
        raise DataError(f"{path}: one column, '{frame.columns[0]}'; {hint}")
    return frame.apply(lambda column: column.str.strip())
