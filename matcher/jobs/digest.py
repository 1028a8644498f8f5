"""Alert digests: one per owner of saved demands and index version, as e-mail-ready HTML and plain text
files (``DIGEST_DIR/<version>/<owner-slug>.html|.txt``), sent when delivery is configured — by SMTP to
owners whose owner field is an e-mail address, and/or as one JSON POST of every alert to a webhook.

User text (demand titles, owners, technology titles) is escaped in the HTML. Delivery failures are
logged and counted, never raised: the index is already published when digests go out.
"""

from __future__ import annotations

import html
import logging
import re
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from matcher.files import replacing
from matcher.jobs.alerts import owners

log = logging.getLogger("matcher.jobs")
#: an owner field that is an e-mail address (the digest is sent to it)
EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
#: seconds to wait for the SMTP server or the webhook
TIMEOUT_SECONDS = 10.0


def slug(owner: str) -> str:
    """A file name for an owner: letters (any script, lower case), digits, ``@ . _ -``; ``unassigned`` for none."""
    return safe_name(owner.lower()) or "unassigned"


def safe_name(text: str) -> str:
    """``text`` as one file name: runs of anything but letters, digits, ``@ . _ -`` become ``-``."""
    return re.sub(r"[^\w@.-]+", "-", text.strip()).strip("-.")[:100]


def is_email(owner: str) -> bool:
    return bool(EMAIL.match(owner.strip()))


def _line(row: dict[str, Any]) -> str:
    ev = row.get("evidence") or {}
    return (f"- {ev.get('title') or row['technology']} ({row['technology']}; "
            f"{', '.join(ev.get('institutions') or []) or 'institution unknown'}), relevance {row['score']:.2f}, "
            f"for demand {row['demand']}: {row.get('demand_title') or ''}")


def render_text(owner: str, version: str, rows: list[dict[str, Any]]) -> str:
    lines = [f"New matches for your saved demands in index version {version}",
             f"for {owner or 'demands without an owner'}: {len(rows)} technolog{'y' if len(rows) == 1 else 'ies'}", ""]
    lines += [_line(r) for r in rows]
    return "\n".join(lines) + "\n"


def render_html(owner: str, version: str, rows: list[dict[str, Any]]) -> str:
    e = html.escape
    items = []
    for r in rows:
        ev = r.get("evidence") or {}
        items.append(
            "<tr>"
            f"<td>{e(str(ev.get('title') or r['technology']))}<br><small>{e(str(r['technology']))} · "
            f"{e(', '.join(ev.get('institutions') or []))}</small></td>"
            f"<td>{e(str(r.get('demand_title') or ''))} <small>(#{e(str(r['demand']))})</small></td>"
            f"<td>{float(r['score']):.2f}</td>"
            f"<td><small>{e(str(ev.get('best_sentence') or ''))}</small></td>"
            "</tr>")
    return ("<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\">"
            f"<title>New matches · {e(version)}</title></head><body>\n"
            f"<h1>New matches for your saved demands</h1>\n<p>Index version {e(version)} · "
            f"{e(owner or 'demands without an owner')} · {len(rows)}</p>\n"
            "<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">"
            "<tr><th>technology</th><th>demand</th><th>relevance</th><th>evidence</th></tr>\n"
            + "\n".join(items) + "\n</table>\n</body></html>\n")


def write_digests(rows: list[dict[str, Any]], version: str, digest_dir: Path) -> dict[str, tuple[Path, Path]]:
    """Write one HTML and one text digest per owner under ``digest_dir/version``; owner → (html, txt)."""
    out: dict[str, tuple[Path, Path]] = {}
    folder = digest_dir / (safe_name(version) or "unnamed")
    for owner, mine in owners(rows).items():
        folder.mkdir(parents=True, exist_ok=True)
        base = folder / slug(owner)
        paths = (base.with_name(base.name + ".html"), base.with_name(base.name + ".txt"))
        for path, body in zip(paths, (render_html(owner, version, mine), render_text(owner, version, mine)),
                              strict=True):
            with replacing(path) as tmp:
                Path(tmp).write_text(body, encoding="utf-8")
        out[owner] = paths
    return out


@dataclass
class Delivery:
    """What was delivered: e-mails sent (recipients), webhook posts, and failures (one line each)."""

    sent: list[str] = field(default_factory=list)
    webhook: int = 0
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "webhook": self.webhook, "failures": self.failures}


def send_mail(host: str, port: int, mail_from: str, to: str, version: str, rows: list[dict[str, Any]]) -> None:
    message = EmailMessage()
    message["Subject"] = f"New matches for your saved demands ({version})"
    message["From"] = mail_from
    message["To"] = to
    message.set_content(render_text(to, version, rows))
    message.add_alternative(render_html(to, version, rows), subtype="html")
    with smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS) as smtp:
        smtp.send_message(message)


def post_webhook(url: str, version: str, rows: list[dict[str, Any]]) -> None:
    import httpx

    response = httpx.post(url, json={"version": version, "alerts": rows}, timeout=TIMEOUT_SECONDS)
    response.raise_for_status()


def deliver(rows: list[dict[str, Any]], version: str, *, smtp_host: str = "", smtp_port: int = 25,
            mail_from: str = "matcher@localhost", webhook_url: str = "") -> Delivery:
    """Send the digests: by e-mail to owners that are addresses (when ``smtp_host`` is set) and one POST of
    every alert to ``webhook_url`` (when set). Nothing is sent for no alerts."""
    done = Delivery()
    if not rows:
        return done
    if smtp_host:
        for owner, mine in owners(rows).items():
            if not is_email(owner):
                continue
            try:
                send_mail(smtp_host, smtp_port, mail_from, owner.strip(), version, mine)
                done.sent.append(owner.strip())
            except (OSError, smtplib.SMTPException) as exc:
                done.failures.append(f"mail to {owner}: {type(exc).__name__}: {exc}")
    if webhook_url:
        try:
            post_webhook(webhook_url, version, rows)
            done.webhook += 1
        except Exception as exc:  # httpx errors and bad statuses alike: logged, counted
            done.failures.append(f"webhook {webhook_url}: {type(exc).__name__}: {exc}")
    for failure in done.failures:
        log.warning("alert delivery failed: %s", failure)
    return done
