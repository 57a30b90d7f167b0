"""The bureau staff console (issue 7): its pages, its sign-in settings, and who is signed in.

The pages (`GET /console`, `/console/ceremony`, their scripts and styles, and `/console/common.js`,
the helpers they share with the parents' portal) hold no personal data and are public; everything
they show comes from the token-authorised JSON APIs. `GET /admin/me` is one of those: the signed-in
staff member, for the console to show only the sections the role may use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response

from enrollment.adapters.wiring import wiring
from enrollment.core.staff import ROLE_ZH, Forbidden
from enrollment.verification.verdicts import AGENCY_ZH
from functions.api import caller, handler_for, json_response, staff_resolver

app = staff_resolver()
HERE = Path(__file__).parent
WEB = HERE.parent / "web"  # what the console's pages share with the parents' portal
# Pages carry no data; the referrer never leaks the sign-in code of the address bar.
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _file(name: str, content_type: str, folder: Path = HERE) -> Response[str]:
    return Response(200, content_type, (folder / name).read_text(encoding="utf-8"), headers=HEADERS)


@app.get("/console")
def console_page() -> Response[str]:
    return _file("console.html", "text/html; charset=utf-8")


@app.get("/console/ceremony")
def ceremony_page() -> Response[str]:
    """The lottery ceremony's big screen (R-LOT-3): `?season=&school=&grade=`."""
    return _file("ceremony.html", "text/html; charset=utf-8")


@app.get("/console/console.js")
def script() -> Response[str]:
    return _file("console.js", "text/javascript; charset=utf-8")


@app.get("/console/console.css")
def style() -> Response[str]:
    return _file("console.css", "text/css; charset=utf-8")


@app.get("/console/ceremony.js")
def ceremony_script() -> Response[str]:
    return _file("ceremony.js", "text/javascript; charset=utf-8")


@app.get("/console/ceremony.css")
def ceremony_style() -> Response[str]:
    return _file("ceremony.css", "text/css; charset=utf-8")


@app.get("/console/common.js")
def common_script() -> Response[str]:
    """The token, time and element helpers both console pages load first (functions/web/common.js)."""
    return _file("common.js", "text/javascript; charset=utf-8", WEB)


@app.get("/console/config.json")
def sign_in_settings() -> Response[str]:
    """Where the console signs staff in (OIDC authorization code + PKCE, a public client)."""
    w = wiring()
    s = w.settings
    return json_response(
        200,
        {
            "issuer": s.oidc_issuer,
            "client_id": s.oidc_client_id,
            "scopes": s.oidc_scopes or "openid profile",
            "season": w.config.season,
            "city": w.config.city,
            "year": w.config.year,
            "redirect_path": "/console",
            # public facts the forms and pickers name (no personal data)
            "districts": [{"code": d.code, "name": d.name} for d in w.config.districts],
            # the agencies that answer by file: the city bureau exchanges their files (docs/AGENCY-FILES.md)
            "file_agencies": [
                {"code": a, "name": AGENCY_ZH[a]} for a in w.config.verification.agency_files()
            ],
            "schools": [
                {
                    "id": x.id,
                    "name": x.name,
                    "kind": x.kind,
                    "district": x.district,
                    "grades": sorted(x.plans),
                }
                for x in w.config.schools
            ],
        },
    )


@app.get("/admin/me")
def me() -> dict[str, Any]:
    """The signed-in staff member: role and district, in Chinese too."""
    w = wiring()
    staff = caller(app)
    if staff.role not in ("district", "city", "auditor"):
        raise Forbidden("未授权：不是招生工作人员", "forbidden: not bureau staff")
    district = w.config.district_index.get(staff.district) if staff.district else None
    return {
        "principal": staff.principal,
        "role": staff.role,
        "role_zh": ROLE_ZH[staff.role],
        "district": staff.district,
        "district_name": district.name if district else None,
    }


handler = handler_for(app)
