"""The rating side's pages: the client's calls (filters, CSV export), the staff's rejects queue
with "re-rate", CDR uploads imported in the background with their progress, and the HTTP
endpoint a PBX posts JSON CDRs to. Views are thin: the work is in :mod:`cdr_import` and
:mod:`calls`, which commit."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField

from portal.plugin_api import now, paginate, requires, session
from portal_telephony import call_detail, calls
from portal_telephony.cdr_formats import FORMATS
from portal_telephony.rating_models import Call, CdrImport, Pbx, Reject

client_calls = Blueprint(
    "telephony_calls", __name__, url_prefix="/telephony/calls", template_folder="templates"
)
client_calls.portal_area = "client"  # type: ignore[attr-defined]

admin_rating = Blueprint(
    "telephony_rating", __name__, url_prefix="/admin/telephony", template_folder="templates"
)
admin_rating.portal_area = "admin"  # type: ignore[attr-defined]


@client_calls.route("/")
def index() -> Response | str:
    filters = calls.CallFilters.from_args(request.args)
    if request.args.get("format") == "csv":
        body = calls.detail_csv(current_user.id, filters)
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=calls.csv"},
        )
    # keyset: newest first, read from ix_telephony_call_client_started
    page = paginate(
        calls.client_calls(current_user.id, filters), sort=Call.started_at, id_column=Call.id
    )
    return render_template(
        "telephony/client_calls.html",
        tab="calls",
        page=page,
        filters=filters,
        groups=calls.groups(current_user.id),
        detail_invoices=call_detail.detail_invoices(current_user.id),
    )


# --- staff: rejects, uploads ----------------------------------------------------------------


class UploadForm(FlaskForm):
    file = FileField(validators=[FileRequired()])
    fmt = SelectField(choices=[(f, f) for f in FORMATS], default="asterisk")
    source = StringField(default="default")


class ActionForm(FlaskForm):
    """A button: CSRF only."""


@admin_rating.route("/rejects")
@requires("clients.view")
def rejects() -> str:
    counts = (
        session()
        .execute(
            select(Reject.reason, func.count()).group_by(Reject.reason).order_by(Reject.reason)
        )
        .all()
    )
    page = paginate(select(Reject), id_column=Reject.id)  # keyset by id, newest first
    return render_template(
        "telephony/admin_rejects.html", page=page, counts=counts, form=ActionForm()
    )


@admin_rating.route("/rejects/rerate", methods=["POST"])
@requires("clients.edit")
def rerate() -> Response:
    from portal_telephony.cdr_import import rerate_rejects

    if ActionForm().validate_on_submit():
        stats = rerate_rejects()
        flash(
            _(
                "Re-rated: %(rated)s calls rated, %(left)s still rejected.",
                rated=stats.rated,
                left=stats.rows - stats.rated,
            ),
            "success",
        )
    return redirect(url_for(".rejects"))


def upload_dir() -> Path:
    folder = Path(current_app.instance_path) / "telephony" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@admin_rating.route("/cdr-imports", methods=["GET", "POST"])
@requires("clients.edit")
def imports() -> Response | str:
    form = UploadForm()
    if form.validate_on_submit():
        stored = (
            upload_dir()
            / f"{now():%Y%m%d%H%M%S}-{hashlib.sha256(str(now()).encode()).hexdigest()[:8]}.csv"
        )
        form.file.data.save(stored)  # streamed to disk by werkzeug, never held whole
        record = CdrImport(
            filename=(form.file.data.filename or "cdr.csv")[:255],
            path=str(stored),
            fmt=form.fmt.data,
            source=form.source.data.strip()[:60] or "default",
            status="queued",
            size=stored.stat().st_size,
            created_at=now(),
            error="",
        )
        session().add(record)
        session().commit()
        flash(_("The file is queued for import; this page shows its progress."), "success")
        return redirect(url_for(".imports"))
    page = paginate(select(CdrImport), id_column=CdrImport.id, per_page=20)
    return render_template("telephony/admin_imports.html", form=form, page=page)


@admin_rating.route("/cdr-imports/<int:import_id>.json")
@requires("clients.view")
def progress(import_id: int) -> Response:
    record = session().get(CdrImport, import_id)
    if record is None:
        return jsonify({"error": "not found"}), 404  # type: ignore[return-value]
    return jsonify(
        {
            "status": record.status,
            "percent": int(100 * record.position / record.size) if record.size else 100,
            "rows": record.rows,
            "rated": record.rated,
            "rejected": record.rejected,
            "duplicates": record.duplicates,
            "error": record.error,
        }
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def pbx_for(header: str) -> Pbx | None:
    """The PBX whose token is in ``Authorization: Bearer ...`` (compared by its hash)."""
    if not header.startswith("Bearer "):
        return None
    return session().scalar(select(Pbx).where(Pbx.token_hash == token_hash(header[7:].strip())))


api = Blueprint("telephony_api", __name__, url_prefix="/telephony/api")
api.portal_area = "api"  # type: ignore[attr-defined]


@api.route("/cdrs", methods=["POST"])
def post_cdrs() -> tuple[Response, int]:
    """JSON CDRs from a PBX: ``{"cdrs": [{"id", "account", "src", "dst", "start",
    "billsec", "disposition"}, ...]}`` (at most 10 000) with ``Authorization: Bearer TOKEN``.
    Answers the counts; the same ids again are duplicates, charged once."""
    from portal_telephony.cdr_import import import_json

    pbx = pbx_for(request.headers.get("Authorization", ""))
    if pbx is None:
        return jsonify({"error": "unauthorized"}), 401
    body = request.get_json(silent=True)
    records = body.get("cdrs") if isinstance(body, dict) else None
    if not isinstance(records, list) or len(records) > 10_000:
        return jsonify({"error": 'expected {"cdrs": [...]} with at most 10000 records'}), 400
    if not all(isinstance(r, dict) for r in records):
        return jsonify({"error": "every CDR is an object"}), 400
    stats = import_json(records, source=pbx.name)
    return jsonify(
        {
            "rated": stats.rated,
            "rejected": stats.rejected,
            "duplicates": stats.duplicates,
            "unanswered": stats.unanswered,
        }
    ), 200


def add_pbx(name: str) -> str:
    """Register a PBX; returns its token (shown once: only the hash is stored). Commits."""
    import secrets

    token = secrets.token_urlsafe(32)
    session().add(Pbx(name=name, token_hash=token_hash(token), created_at=now()))
    session().commit()
    return token
