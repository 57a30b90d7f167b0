"""The whole API's OpenAPI document (docs/openapi.json, `enroll openapi`): the parents' routes (the
document the portal serves at /api/openapi.json) and every staff and agency route, each operation
with every status it can answer and the one refusal shape (functions/api.py `with_refusals`).

The console's pages (HTML, scripts, styles) are not API operations and are left out.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from functions.api import with_refusals

TITLE = "义务教育招生入学 接口 / Enrollment API"
SECURITY_SCHEMES: dict[str, Any] = {
    "staffToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "工作人员登录（OIDC）所得的 ID token；角色和所在区来自令牌的用户组",
    },
    "agencyIam": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "AWS SigV4（IAM）签名：街道社区等协查单位的系统",
    },
}


def staff_apps() -> list[APIGatewayRestResolver]:
    from functions.complaints.api import app as complaints
    from functions.console.handler import app as console
    from functions.exports.api import app as exports
    from functions.gates.handler import admin as gates
    from functions.lottery.api import app as lottery
    from functions.place.api import app as place
    from functions.verify.api import app as verify

    return [console, gates, verify, lottery, place, complaints, exports]


def document() -> dict[str, Any]:
    from functions.register.handler import openapi_json

    doc: dict[str, Any] = json.loads(openapi_json())
    doc["info"]["title"] = TITLE
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for app in staff_apps():
        part = _renamed(json.loads(app.get_openapi_json_schema()), schemas)
        for path, operations in part["paths"].items():
            if path.startswith("/console") and not path.endswith(".json"):
                continue  # pages, scripts and styles
            scheme = "staffToken" if path.startswith("/admin/") else "agencyIam"
            for operation in operations.values():
                if path.startswith(("/admin/", "/agency/")):  # /console/config.json is public
                    operation["security"] = [{scheme: []}]
            doc["paths"].setdefault(path, {}).update(operations)
        schemas.update(part.get("components", {}).get("schemas", {}))
    doc["components"].setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    return with_refusals(doc)


def _renamed(part: dict[str, Any], taken: dict[str, Any]) -> dict[str, Any]:
    """`part` with each schema whose name another router already uses for another schema renamed
    after its first path segment (two routers' `DecisionRequest`s stay two schemas)."""
    own = part.get("components", {}).get("schemas", {})
    clashes = [name for name, schema in own.items() if name in taken and taken[name] != schema]
    if not clashes:
        return part
    first = next(iter(part["paths"]), "/x").strip("/").split("/")
    prefix = (first[1] if len(first) > 1 and first[0] == "admin" else first[0]).title().replace("-", "")
    text = json.dumps(part, ensure_ascii=False)
    for name in clashes:
        text = text.replace(f'"#/components/schemas/{name}"', f'"#/components/schemas/{prefix}{name}"')
    renamed: dict[str, Any] = json.loads(text)
    schemas = renamed["components"]["schemas"]
    for name in clashes:
        schemas[prefix + name] = schemas.pop(name)
    return renamed


def document_json() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=2) + "\n"
