"""Signing in and out: password checks under a rate limit, sessions for the API and the pages.

A session is a random token handed to the client once (as a bearer token, or inside the signed page
cookie) and stored only as its SHA-256 digest, so it can be revoked: on logout, on a password change,
or when the account is deactivated.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from exohub.web.accounts.models import AuthSession, LoginAttempt, Membership, User
from exohub.web.accounts.service import get_by_email
from exohub.web.audit import service as audit
from exohub.web.audit.service import AuditContext
from exohub.web.config import Settings
from exohub.web.database import utcnow
from exohub.web.errors import AuthenticationError, InvalidInputError, RateLimitedError
from exohub.web.fields import has_control_characters
from exohub.web.security import hash_password, needs_rehash, new_token, token_digest, verify_password
from exohub.web.tenancy import Principal

SessionKind = Literal["api", "page"]

WRONG_CREDENTIALS = "Incorrect email or password."
EMAIL_MAX_LENGTH = User.email.type.length or 254


@dataclass(frozen=True)
class SignIn:
    """A new session: the token to hand to the client once, and who it belongs to."""

    token: str
    user: User
    expires_in_s: int


def sign_in(
    *, session: Session, settings: Settings, email: str, password: str, address: str, kind: SessionKind
) -> SignIn:
    """Check a password under the rate limit and open a session.

    The attempt is committed at once, even when the password is wrong: the rate limit has to count it
    although the request then fails (the one place a service commits).
    """
    email = email.strip().lower()
    if has_control_characters(email):  # no account has such an address, and the attempt could not be stored
        raise InvalidInputError("The email address must not contain control characters.")
    if len(email) > EMAIL_MAX_LENGTH:
        raise InvalidInputError(f"An email address has at most {EMAIL_MAX_LENGTH} characters; no account has this one.")
    _prune(session=session, settings=settings)
    _check_rate_limit(session=session, settings=settings, email=email, address=address)
    user = get_by_email(session=session, email=email)
    valid = verify_password(password, user.password_hash if user else None) and user is not None and user.is_active
    session.add(LoginAttempt(email=email, address=address, succeeded=valid))
    context = AuditContext(actor_user_id=user.id if user else None, address=address)
    if not valid or user is None:
        audit.record(
            session=session,
            context=context,
            action="auth.sign_in_failed",
            object_type="user",
            object_id=user.id if user else None,
            detail={"email": email},
        )
        session.commit()
        raise AuthenticationError(WRONG_CREDENTIALS)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = start_session(session=session, settings=settings, user=user, kind=kind, address=address)
    audit.record(
        session=session,
        context=context,
        action="auth.sign_in",
        object_type="user",
        object_id=user.id,
        detail={"kind": kind},
    )
    return SignIn(token=token, user=user, expires_in_s=int(_lifetime(settings, kind).total_seconds()))


def _lifetime(settings: Settings, kind: SessionKind) -> timedelta:
    minutes = settings.ACCESS_TOKEN_EXPIRE_MINUTES if kind == "api" else settings.SESSION_EXPIRE_MINUTES
    return timedelta(minutes=minutes)


def _prune(*, session: Session, settings: Settings) -> None:
    """Forget sign-in attempts and sessions nobody needs any more (older than a day past their use)."""
    horizon = utcnow() - max(timedelta(days=1), timedelta(minutes=settings.LOGIN_WINDOW_MINUTES))
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < horizon))
    session.execute(delete(AuthSession).where(AuthSession.expires_at < horizon))


def _check_rate_limit(*, session: Session, settings: Settings, email: str, address: str) -> None:
    """Refuse, and audit the refusal (committed), once an account or an address failed too often lately.

    Failed password checks count whatever asked for them: a sign-in or a password change.
    """
    since = utcnow() - timedelta(minutes=settings.LOGIN_WINDOW_MINUTES)
    failures = select(func.count()).where(LoginAttempt.attempted_at >= since, LoginAttempt.succeeded.is_(False))
    if (session.scalar(failures.where(LoginAttempt.email == email)) or 0) >= settings.LOGIN_MAX_FAILURES_PER_ACCOUNT:
        reason = "for this account"
    elif (
        session.scalar(failures.where(LoginAttempt.address == address)) or 0
    ) >= settings.LOGIN_MAX_FAILURES_PER_ADDRESS:
        reason = "from your address"
    else:
        return
    audit.record(
        session=session,
        context=AuditContext(actor_user_id=None, address=address),
        action="auth.rate_limited",
        object_type="user",
        object_id=None,
        detail={"email": email, "reason": reason},
    )
    session.commit()
    raise RateLimitedError(
        f"Too many failed sign-ins {reason}; try again in {settings.LOGIN_WINDOW_MINUTES} minutes.",
        retry_after_s=settings.LOGIN_WINDOW_MINUTES * 60,
    )


def start_session(*, session: Session, settings: Settings, user: User, kind: SessionKind, address: str | None) -> str:
    """Open a session for ``user`` and return its token (shown to the client once, stored as a digest)."""
    token = new_token()
    session.add(
        AuthSession(
            token_digest=token_digest(token),
            user_id=user.id,
            kind=kind,
            expires_at=utcnow() + _lifetime(settings, kind),
            address=address,
        )
    )
    session.flush()
    return token


# Runs on every request: one query returning plain rows (one per role held), no ORM objects. Built once with
# bound parameters, so a request neither rebuilds the statement nor recomputes its compiled-cache key.
_PRINCIPAL_ROWS = (
    select(User.id, User.email, User.full_name, User.is_superuser, Membership.organisation_id, Membership.role)
    .join(AuthSession, AuthSession.user_id == User.id)
    .outerjoin(Membership, Membership.user_id == User.id)
    .where(
        AuthSession.token_digest == bindparam("token_digest"),
        AuthSession.kind == bindparam("kind"),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now"),
        User.is_active.is_(True),
    )
)


def principal_for_token(*, session: Session, token: str, kind: SessionKind) -> Principal | None:
    """Return who holds ``token``, or None if it is unknown, expired, revoked or its account inactive."""
    parameters = {"token_digest": token_digest(token), "kind": kind, "now": utcnow()}
    rows = session.execute(_PRINCIPAL_ROWS, parameters).all()
    if not rows:
        return None
    first = rows[0]
    return Principal(
        user_id=first.id,
        email=first.email,
        full_name=first.full_name,
        is_superuser=first.is_superuser,
        roles=frozenset((row.organisation_id, row.role) for row in rows if row.organisation_id is not None),
    )


def end_session(*, session: Session, token: str, context: AuditContext) -> None:
    """Revoke the session behind ``token`` (logout)."""
    session.execute(
        update(AuthSession)
        .where(AuthSession.token_digest == token_digest(token), AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    audit.record(
        session=session, context=context, action="auth.sign_out", object_type="user", object_id=context.actor_user_id
    )


def change_password(
    *,
    session: Session,
    settings: Settings,
    principal: Principal,
    context: AuditContext,
    current_password: str,
    new_password: str,
    keep_token: str | None,
) -> None:
    """Change the caller's password and revoke their other sessions (``keep_token`` stays signed in).

    A wrong current password counts as a failed sign-in of the account (committed, audited), under the same rate
    limit: a stolen session cannot be used to guess the password.
    """
    user = session.get(User, principal.user_id)
    if user is None:
        raise AuthenticationError(WRONG_CREDENTIALS)
    address = context.address or "unknown"
    _check_rate_limit(session=session, settings=settings, email=user.email, address=address)
    if not verify_password(current_password, user.password_hash):
        session.add(LoginAttempt(email=user.email, address=address, succeeded=False))
        audit.record(
            session=session,
            context=context,
            action="auth.password_change_failed",
            object_type="user",
            object_id=user.id,
        )
        session.commit()
        raise InvalidInputError("The current password is incorrect.", field="body.current_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    keep = token_digest(keep_token) if keep_token else ""
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None), AuthSession.token_digest != keep)
        .values(revoked_at=utcnow())
    )
    audit.record(session=session, context=context, action="auth.password_change", object_type="user", object_id=user.id)
