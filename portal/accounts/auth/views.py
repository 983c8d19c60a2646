"""Sign-in views. Each area has its own blueprint, so ``current_user`` here is that area's.

Sign-in POSTs are rate-limited (portal.accounts.auth.limits); only failed attempts count
(a successful sign-in redirects, and redirects are not deducted). Password reset and
registration answer the same whether or not the e-mail has an account, and are limited too.

Staff and clients with two-factor authentication sign in in two steps: the right password only
remembers *who* is signing in (in the session, for a few minutes); they are signed in once the
code from their authenticator app, or one of their recovery codes, is accepted. The code step is
rate-limited per address and per account like the password step.
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.accounts import sessions, sign_in, two_factor
from portal.accounts.auth.forms import (
    ConfirmForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from portal.accounts.auth.limits import (
    code_limits,
    mail_request_limits,
    pending_session_key,
    remember_device,
    sign_in_limits,
)
from portal.accounts.forms import SecondFactorForm
from portal.accounts.models import Client, Staff
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.web import identity
from portal.web.identity import Area
from portal.web.safe_redirect import is_safe_next

admin_auth = Blueprint("admin_auth", __name__, url_prefix="/admin")
admin_auth.portal_area = Area.ADMIN  # type: ignore[attr-defined]
admin_auth.portal_public = True  # type: ignore[attr-defined]
client_auth = Blueprint("client_auth", __name__)
client_auth.portal_area = Area.CLIENT  # type: ignore[attr-defined]
client_auth.portal_public = True  # type: ignore[attr-defined]

HOME = {Area.ADMIN: "admin.dashboard", Area.CLIENT: "client.dashboard"}
#: Session key, per area, of an account that gave the right password and still owes the code.
PENDING_KEYS = {Area.ADMIN: "_staff_pending_2fa", Area.CLIENT: "_client_pending_2fa"}
CODE_ENDPOINTS = {
    Area.ADMIN: "admin_auth.two_factor_code",
    Area.CLIENT: "client_auth.two_factor_code",
}
PENDING_FOR = timedelta(minutes=5)


def _login(area: Area, model: type[Staff] | type[Client], template: str) -> Response | str:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        account = sign_in.authenticate(model, form.email.data, form.password.data, clock())
        if account is not None:
            target = form.next.data
            target = target if is_safe_next(target) else url_for(HOME[area])
            if account.two_factor_enabled:
                session[PENDING_KEYS[area]] = {
                    "id": account.id,
                    "token": account.session_token,
                    "until": (clock().now() + PENDING_FOR).timestamp(),
                    "next": target,
                }
                return redirect(url_for(CODE_ENDPOINTS[area]))
            identity.sign_in(area, account)
            remember_device(area, account.email)
            return redirect(target)
        flash(_("Wrong e-mail or password."), "danger")
    return render_template(template, form=form)


@admin_auth.route("/login", methods=["GET", "POST"])
@sign_in_limits(Area.ADMIN)
def login() -> Response | str:
    return _login(Area.ADMIN, Staff, "admin/login.html")


def _pending(area: Area, model: type[Staff] | type[Client]) -> Staff | Client | None:
    """The account between the password and the code step, if still in time."""
    data = session.get(PENDING_KEYS[area])
    if not isinstance(data, dict) or clock().now().timestamp() > data.get("until", 0):
        return None
    account = db.session.get(model, data.get("id"))
    if account is None or account.session_token != data.get("token") or not account.is_active:
        return None
    return account


def _code_step(area: Area, model: type[Staff] | type[Client], template: str) -> Response | str:
    """The second step: a code from the authenticator app or a recovery code."""
    account = _pending(area, model)
    if account is None:
        session.pop(PENDING_KEYS[area], None)
        flash(_("Please sign in again."), "warning")
        return redirect(url_for(identity.LOGIN_ENDPOINTS[area]))
    form = SecondFactorForm()
    if form.validate_on_submit():
        proof = two_factor.verify(account, form.code.data)
        if proof is not None:
            target = session.pop(PENDING_KEYS[area])["next"]
            identity.sign_in(area, account)
            remember_device(area, account.email)
            if proof is two_factor.Proof.RECOVERY_CODE:
                flash(
                    _(
                        "You signed in with a recovery code; it cannot be used again. "
                        "Recovery codes left: %(left)d.",
                        left=two_factor.recovery_codes_left(account),
                    ),
                    "warning",
                )
            return redirect(target if is_safe_next(target) else url_for(HOME[area]))
        flash(_("Wrong or already used code."), "danger")
    return render_template(template, form=form)


@admin_auth.route("/login/code", methods=["GET", "POST"])
@code_limits(pending_session_key(PENDING_KEYS[Area.ADMIN]))
def two_factor_code() -> Response | str:
    return _code_step(Area.ADMIN, Staff, "admin/two_factor_code.html")


@client_auth.route("/login/code", methods=["GET", "POST"], endpoint="two_factor_code")
@code_limits(pending_session_key(PENDING_KEYS[Area.CLIENT]))
def client_two_factor_code() -> Response | str:
    return _code_step(Area.CLIENT, Client, "client/two_factor_code.html")


@admin_auth.route("/logout", methods=["POST"])
def logout() -> Response:
    sessions.sign_out(Area.ADMIN)
    return redirect(url_for("admin_auth.login"))


@client_auth.route("/login", methods=["GET", "POST"], endpoint="login")
@sign_in_limits(Area.CLIENT)
def client_login() -> Response | str:
    return _login(Area.CLIENT, Client, "client/login.html")


@client_auth.route("/logout", methods=["POST"], endpoint="logout")
def client_logout() -> Response:
    sessions.sign_out(Area.CLIENT)
    return redirect(url_for("client_auth.login"))


@client_auth.route("/register", methods=["GET", "POST"])
@mail_request_limits
def register() -> Response | str:
    form = RegisterForm()
    if form.validate_on_submit():
        sign_in.request_registration(
            email=form.email.data,
            password=form.password.data,
            first_name=form.first_name.data,
            last_name=form.last_name.data or "",
            company=form.company.data or "",
            language=_current_locale(),
            ip=request.remote_addr or "",
        )
        flash(_check_mail(), "info")
        return redirect(url_for("client_auth.login"))
    return render_template("client/register.html", form=form)


def _check_mail() -> str:
    # The same words whether or not the address has an account (docs/security.md).
    return _(
        "Check your mail: we have sent a message to the address you entered. "
        "Follow it to finish registering."
    )


@client_auth.route("/register/<token>", methods=["GET", "POST"])
def confirm_registration(token: str) -> Response | str:
    """The link from the registration mail: a button (mail scanners open links), then the
    account exists and its owner is signed in."""
    data = sign_in.registration_for_token(token)
    if data is None:
        flash(_("This registration link is invalid or has expired, or was used already."), "danger")
        return redirect(url_for("client_auth.login"))
    form = ConfirmForm()
    if form.validate_on_submit():
        client = sign_in.confirm_registration(data, clock())
        if client is None:
            return redirect(url_for("client_auth.login"))
        identity.sign_in(Area.CLIENT, client)
        remember_device(Area.CLIENT, client.email)
        flash(_("Welcome! Your account has been created."), "success")
        return redirect(url_for("client.dashboard"))
    return render_template("client/register_confirm.html", form=form, email=data["email"])


def _current_locale() -> str:
    from flask_babel import get_locale

    return str(get_locale())


@client_auth.route("/password/reset", methods=["GET", "POST"])
@mail_request_limits
def forgot_password() -> Response | str:
    form = ResetRequestForm()
    if form.validate_on_submit():
        sign_in.request_password_reset(form.email.data)
        flash(
            _("If an account with this e-mail exists, we have sent a link to reset the password."),
            "info",
        )
        return redirect(url_for("client_auth.login"))
    return render_template("client/forgot_password.html", form=form)


@client_auth.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str:
    client = sign_in.client_for_reset_token(token)
    if client is None:
        flash(_("This password reset link is invalid or has expired."), "danger")
        return redirect(url_for("client_auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        sign_in.reset_password(client, form.password.data)
        remember_device(Area.CLIENT, client.email)  # the link proved the mailbox
        flash(_("Your password has been changed. Please sign in."), "success")
        return redirect(url_for("client_auth.login"))
    return render_template("client/reset_password.html", form=form)
