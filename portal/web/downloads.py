"""Files the portal hands out (PDFs, CSV): one place that builds their response.

A document's name may hold Cyrillic (a credit note "К-2026-000001"): HTTP headers are latin-1,
and gunicorn refuses a response whose ``Content-Disposition`` is not (a 500 the test client
never shows). Flask's ``send_file`` writes the name as RFC 6266 ``filename*`` with an ASCII
fallback, which every browser reads.
"""

from __future__ import annotations

import io

from flask import Response, send_file


def download(data: bytes, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """``data`` as a file called ``filename``: shown in the browser when ``inline`` (a PDF),
    else saved (a CSV)."""
    return send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=not inline,
        download_name=filename,
        etag=False,
        conditional=False,
        max_age=None,
    )


def pdf_response(data: bytes, filename: str) -> Response:
    """A PDF document, opened in the browser's viewer."""
    return download(data, filename, "application/pdf", inline=True)
