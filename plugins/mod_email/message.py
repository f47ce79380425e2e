"""Builds the message text exactly as FreeSWITCH's simple mailer lays it out (§3.1).

Plain when there is no attachment and the body does not mention a content type:
headers, a blank line, the body.  Otherwise MIME multipart/mixed with the fixed
boundary ``XXXX_boundary_XXXX``: a text/plain part (left out when the body brings its
own ``Content-Type``), then the attachment base64-encoded in 72-character lines with a
MIME type from the file extension (``audio/inline`` when unknown).

Line ends are LF, as a sendmail program expects on its standard input; the SMTP
transport converts to CRLF on the wire.
"""

from __future__ import annotations

import base64
import email.utils
import mimetypes
import os

BOUNDARY = "XXXX_boundary_XXXX"
DEFAULT_MIME = "audio/inline"

# Python's built-in table (no /etc/mime.types, so the result does not depend on the
# machine), plus the sound formats a voicemail may be converted to that it lacks.  The
# values follow the Apache mime.types list FreeSWITCH ships in conf/.
_TYPES = mimetypes.MimeTypes(filenames=())
_EXTRA = {
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "flac": "audio/x-flac",
    "gsm": "audio/x-gsm",
    "m4a": "audio/mp4",
}


def mime_type_for(path: str) -> str:
    """MIME type for an attachment name, from its extension; ``audio/inline`` if unknown."""
    base = os.path.basename(path)
    if "." not in base:
        return DEFAULT_MIME
    ext = base.rsplit(".", 1)[1].lower()
    if ext in _EXTRA:
        return _EXTRA[ext]
    guessed, _enc = _TYPES.guess_type("x." + ext, strict=False)
    return guessed or DEFAULT_MIME


def base64_lines(data: bytes, width: int = 72) -> str:
    """Base64 text broken into ``width``-character lines joined by LF."""
    text = base64.b64encode(data).decode("ascii")
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def is_multipart(body: str, has_attachment: bool) -> bool:
    return has_attachment or "content-type" in (body or "").lower()


def build_message(
    headers: str,
    body: str,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """The message FreeSWITCH would write.  ``headers`` is the checked header block
    without trailing newline; ``attachment`` is ``(file name, content)``."""
    body = body or ""
    if not is_multipart(body, attachment is not None):
        return (headers + "\n\n" + body).encode("utf-8")
    out = [
        "MIME-Version: 1.0\n",
        f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"\n',
        headers,
        "\n\n",
    ]
    if "content-type" in body.lower():
        out.append(f"--{BOUNDARY}\n")  # the body carries its own part headers
    else:
        out.append(f"--{BOUNDARY}\nContent-Type: text/plain\n\n")
    out.append(body)
    if attachment is not None:
        name, data = attachment
        base = os.path.basename(name)
        out.append(
            f"\n\n--{BOUNDARY}\n"
            f'Content-Type: {mime_type_for(base)}; name="{base}"\n'
            "Content-ID: <ATTACHED@freeswitch.org>\n"
            "Content-Transfer-Encoding: base64\n"
            "Content-Description: Sound attachment.\n"
            f'Content-Disposition: attachment; filename="{base}"\n\n'
        )
        out.append(base64_lines(data))
    out.append(f"\n\n--{BOUNDARY}--\n")
    return "".join(out).encode("utf-8")


def header_names(headers: str) -> set[str]:
    """Lower-case names of the fields in a checked header block."""
    names = set()
    for line in headers.split("\n"):
        if line and line[0] not in " \t" and ":" in line:
            names.add(line.split(":", 1)[0].strip().lower())
    return names


def missing_headers(headers: str, sender: str, recipients: list[str], hostname: str) -> str:
    """Date/Message-ID/From/To lines a submission server expects and a sendmail program
    would have added itself; used by the SMTP transport only.  Returns ``""`` or lines
    ending in LF, to be put in front of the message."""
    have = header_names(headers)
    add = []
    if "date" not in have:
        add.append("Date: " + email.utils.formatdate(localtime=True))
    if "message-id" not in have:
        add.append("Message-ID: " + email.utils.make_msgid(domain=hostname or None))
    if "from" not in have:
        add.append("From: " + sender)
    if "to" not in have:
        add.append("To: " + ", ".join(recipients))
    return "".join(line + "\n" for line in add)
