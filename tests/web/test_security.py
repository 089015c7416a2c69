"""Security headers everywhere; pages with no inline script, style or handler (the CSP would
block them) and nothing loaded from another origin."""

import re

import pytest

PAGES = ["/", "/stats", "/explore", "/leaderboard", "/how", "/docs"]


@pytest.mark.parametrize("path", [*PAGES, "/healthz", "/api/models", "/api/stats"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_style_or_handlers_and_no_other_origin(client, path):
    html = client.get(path).text
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, f"inline script on {path}: {tag}"
    assert not re.search(r"<script\b[^>]*>(?!\s*</script>)", html), f"script body on {path}"
    assert not re.search(r"<style\b", html), f"inline <style> on {path}"
    assert not re.search(r"\sstyle\s*=", html), f"style attribute on {path}"
    assert not re.search(r"\son[a-z]+\s*=", html), f"inline event handler on {path}"
    for url in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html):
        assert not re.match(r"(?:[a-z]+:)?//", url), f"{path} loads {url} from another origin"


def test_a_nickname_is_escaped_in_pages(client):
    client.put("/api/players/me", json={"nickname": "<b>x</b>"})
    body = client.post("/api/rounds", json={"mode": "pair"}).json()
    client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": 0})
    page = client.get("/leaderboard").text
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
