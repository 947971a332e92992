"""$dash_auth_user / $dash_auth_sections reach the app; client-sent copies do not."""
import json

from harness import basic


def layout(stack, headers):
    r = stack.get("/_dash-layout", headers=headers)
    assert r.status == 200
    return r.text


def test_app_sees_the_signed_in_user_and_sections(stack, mike_cookie, mica_cookie):
    mike = layout(stack, [f"Cookie: example_jwt={mike_cookie}"])
    assert "Signed in as mike" in mike
    assert "nav-marketing" in mike and "nav-hr" not in mike
    mica = layout(stack, [f"Cookie: example_jwt={mica_cookie}"])
    assert "Signed in as mica" in mica
    assert "nav-marketing" in mica and "nav-hr" in mica


def test_client_sent_identity_headers_are_overwritten(stack, mike_cookie):
    text = layout(stack, [f"Cookie: example_jwt={mike_cookie}", "X-Forwarded-User: mica",
                          "X-Dash-Sections: _all_"])
    assert "Signed in as mike" in text and "Signed in as mica" not in text
    assert "nav-hr" not in text


def test_basic_login_request_itself_carries_identity(stack):
    text = layout(stack, [f"Authorization: {basic('mike', '123456')}", "X-Dash-Sections: hr"])
    assert "Signed in as mike" in text and "nav-hr" not in text


def test_variables_in_access_log(stack, mica_cookie):
    stack.get("/?probe=varlog", headers=[f"Cookie: example_jwt={mica_cookie}"])
    line = stack.access_line("probe=varlog")
    assert " - mica [" in line and 'sections="_all_"' in line


def test_password_is_not_forwarded_upstream(stack, dashboard):
    # The shipped config clears Authorization; the app's layout never sees it.
    r = stack.get("/_dash-layout", headers=[f"Authorization: {basic('mike', '123456')}"])
    assert r.status == 200
    assert "MTIzNDU2" not in r.text  # base64 of the password never echoes back
    json.loads(r.body)
