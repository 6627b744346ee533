"""E-mail: compose a message (plain text and HTML), and deliver it over SMTP (`APP_SMTP_URL`) or, without
one, to the log and `APP_DATA_DIR/outbox/<key>.eml` (development: open the file in a mail program).

Delivery is called by the e-mail tasks (app/tasks/emails.py), which retry it; a message keeps its
Message-ID (built from its idempotency key) across retries, so a receiver can drop a second copy.
"""

import asyncio
import html
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from app.settings import Settings

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def message_id(key: str, settings: Settings) -> str:
    """`<key@host>`: the same for every attempt at one e-mail (its idempotency key)."""
    return f"<{key}@{urlsplit(settings.public_url).hostname}>"


def compose(
    settings: Settings,
    *,
    key: str,
    to_name: str,
    to_address: str,
    subject: str,
    paragraphs: list[str],
    action: str,
    path: str,
    footer: str = "",
) -> EmailMessage:
    """A message to one person: a greeting, `paragraphs`, and a link `action` to `path` in the web app."""
    url = settings.public_url + path
    text = "\n\n".join([f"Hi {to_name},", *paragraphs, f"{action}: {url}", *([footer] if footer else [])])
    rendered = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    html_body = (
        '<!DOCTYPE html><html><body style="font-family: sans-serif">'
        f"<p>Hi {html.escape(to_name)},</p>{rendered}"
        f'<p><a href="{html.escape(url, quote=True)}">{html.escape(action)}</a></p>'
        + (f'<p style="color: #666">{html.escape(footer)}</p>' if footer else "")
        + "</body></html>"
    )
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.email_from
    message["To"] = formataddr((to_name, to_address))
    message["Message-ID"] = message_id(key, settings)
    message.set_content(text + "\n")
    message.add_alternative(html_body, subtype="html")
    return message


async def deliver(settings: Settings, message: EmailMessage, key: str) -> None:
    """Send `message`; raises when the server refuses it (the task retries)."""
    if settings.smtp_url:
        await asyncio.to_thread(_send_smtp, settings.smtp_url, message)
        logger.info("e-mail %s sent", message["Message-ID"])
        return
    path = settings.data_dir / "outbox" / f"{_UNSAFE.sub('_', key)}.eml"
    await asyncio.to_thread(_write, path, message)
    # The body stays in the file: account links must not end up in a log.
    logger.info("e-mail %s to %s (%s) written to %s", message["Message-ID"], message["To"], message["Subject"], path)


def _write(path: Path, message: EmailMessage) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(message.as_bytes())  # the same name on a retry: one file per e-mail


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    smtp: smtplib.SMTP
    if parts.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT_SECONDS)
    with smtp:
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
