"""Word documents (.docx, also what Google Docs exports) as Markdown, headings from styles.

Word marks structure with paragraph styles, not with text: "Title", "Heading 1".."Heading 9",
"List Bullet", "List Number". Those become Markdown so the chunker sees the same headings, lists
and tables it sees in a .md file.
"""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from bot.errors import UnreadableFileError

_HEADING_STYLE = re.compile(r"^heading (\d)$", re.IGNORECASE)


def _style_name(paragraph: Paragraph) -> str:
    style = paragraph.style
    return (style.name or "") if style is not None else ""


def _paragraph(paragraph: Paragraph) -> str:
    text = " ".join(paragraph.text.split())
    if not text:
        return ""
    style = _style_name(paragraph)
    if style.lower() == "title":
        return "# " + text
    if heading := _HEADING_STYLE.match(style):
        # Heading 1 sits under the title, so it is a Markdown level 2; deeper levels follow.
        return "#" * min(int(heading.group(1)) + 1, 6) + " " + text
    if style.lower().startswith("list number"):
        return "1. " + text
    if style.lower().startswith("list"):
        return "- " + text
    return text


def _table(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells = [" ".join(cell.text.split()).replace("|", "/") for cell in row.cells]
        if any(cells):
            rows.append("| " + " | ".join(cells) + " |")
    if not rows:
        return ""
    width = rows[0].count("|") - 1
    return "\n".join([rows[0], "|" + "---|" * width, *rows[1:]])


def docx_to_markdown(data: bytes) -> tuple[str | None, str]:
    """(title from the document properties, Markdown text)."""
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFileError("Word document could not be read (damaged or not .docx)") from exc
    blocks: list[str] = []
    previous_list = False
    for item in document.iter_inner_content():
        text = _paragraph(item) if isinstance(item, Paragraph) else _table(item)
        if not text:
            continue
        is_list = text.startswith(("- ", "1. "))
        # Consecutive list items form one tight list; everything else is its own block.
        if blocks and is_list and previous_list:
            blocks[-1] += "\n" + text
        else:
            blocks.append(text)
        previous_list = is_list
    title = document.core_properties.title
    return (title.strip() if title and title.strip() else None), "\n\n".join(blocks)
