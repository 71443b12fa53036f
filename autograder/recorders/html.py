"""The one HTML page frame that the feedback pages and the class report share."""

from __future__ import annotations

import html

_PAGE = """<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""

# Korean first, so that Hangul never falls back to a font without it.
FONT_STACK = (
    '"Noto Sans KR", "NanumGothic", "Apple SD Gothic Neo", "Malgun Gothic", '
    "system-ui, sans-serif"
)


def page(*, title: str, body: str, style: str, language: str) -> str:
    """A self-contained page: `title` is escaped here, `body` is already HTML."""
    return _PAGE.format(
        language=language, title=html.escape(title), style=style, body=body
    )
