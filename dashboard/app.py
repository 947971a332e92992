"""ngx-dash-auth demo dashboard.

A multi-page Dash app that does NO authentication of its own: nginx
(ngx-dash-auth) signs users in and enforces per-section access. The app only
*displays* what nginx tells it through request headers:

  X-Forwarded-User   the signed-in user name
  X-Dash-Sections    comma-separated sections the user may open (`_all_` = all)

Missing headers fail closed: no section links, "not signed in".

Run (from this directory):  gunicorn -c gunicorn.conf.py app:server
"""
import os
import tempfile

import dash
import diskcache
import flask
from dash import Dash, DiskcacheManager, Input, Output, dcc, html

ALL_SECTIONS = "_all_"
# nginx's logout path (`dash_auth_logout`, LOGOUT_PATH in the shipped
# config). It is nginx's, not the app's, so it lies outside any prefix.
LOGOUT_PATH = "/logout"


def _prefix():
    prefix = os.environ.get("DASH_PREFIX", "/").strip() or "/"
    if not prefix.startswith("/"):
        prefix = "/" + prefix
    if not prefix.endswith("/"):
        prefix += "/"
    return prefix


def _cache_dir():
    # Every gunicorn worker must open the same directory: a background job's
    # progress and result, and the secret that signs its handles, are read
    # back by whichever worker the next poll reaches.
    return os.environ.get("DASH_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "ngx-dash-auth-cache")


app = Dash(
    __name__,
    use_pages=True,
    background_callback_manager=DiskcacheManager(diskcache.Cache(_cache_dir())),
    # REQUIRED: otherwise every page's layout is embedded in the index HTML
    # (validation_layout) and every user receives every section's layout.
    # DASH_UNSAFE_VALIDATION_LAYOUT=1 exists only so the tests can show that
    # nginx refuses such an index page.
    suppress_callback_exceptions=os.environ.get("DASH_UNSAFE_VALIDATION_LAYOUT") != "1",
    url_base_pathname=_prefix(),
    title="ngx-dash-auth demo",
    update_title=None,
)
server = app.server


def _sections():
    """Section landing pages in navigation order: [(section, page), ...].
    A section's other pages (a report, the staff directory) are linked from
    its landing page, not from the navigation."""
    pages = [p for p in dash.page_registry.values()
             if p.get("section") and p["path"] == "/" + p["section"]]
    pages.sort(key=lambda p: (p.get("order") or 0, p["section"]))
    return [(p["section"], p) for p in pages]


def _allowed(user, header):
    known = [s for s, _ in _sections()]
    if not user or not header:
        return []
    wanted = {s.strip() for s in header.split(",") if s.strip()}
    if ALL_SECTIONS in wanted:
        return known
    return [s for s in known if s in wanted]


def serve_layout():
    user, header = "", ""
    if flask.has_request_context():
        user = flask.request.headers.get("X-Forwarded-User", "").strip()
        header = flask.request.headers.get("X-Dash-Sections", "")
    allowed = _allowed(user, header)
    pages = dict(_sections())

    links = [dcc.Link("Home", href=app.get_relative_path("/"), id="nav-home")]
    for section in allowed:
        page = pages[section]
        links.append(html.Span(" | "))
        links.append(
            dcc.Link(page["name"], href=app.get_relative_path(page["path"]), id=f"nav-{section}")
        )

    label = f"Signed in as {user}" if user else "not signed in"
    account = [html.Span(label, id="nav-user")]
    if user:
        # A form, not a link: nginx ends a session only on a POST from this
        # site, so that no link or image elsewhere can sign anyone out.
        account.append(html.Form(
            html.Button("Sign out", type="submit", id="nav-sign-out"),
            method="post", action=LOGOUT_PATH, id="nav-sign-out-form",
            style={"display": "inline", "marginLeft": "1em"},
        ))
    nav = html.Nav(
        [
            html.Div(links, id="nav-links", style={"display": "inline-block"}),
            html.Div(account, id="nav-account", style={"float": "right"}),
        ],
        id="nav",
        style={"padding": "0.5em", "borderBottom": "1px solid #ccc", "marginBottom": "1em"},
    )
    return html.Div(
        [nav, html.Main(dash.page_container, id="nav-main")],
        id="nav-root",
        style={"fontFamily": "sans-serif", "maxWidth": "960px", "margin": "auto"},
    )


app.layout = serve_layout


# A callback that mixes two sections: one input in marketing, outputs in
# marketing AND hr (multi-output across sections). With
# suppress_callback_exceptions the hr output need not be on the same page.
@dash.callback(
    Output("marketing-share-status", "children"),
    Output("hr-share-status", "children"),
    Input("marketing-share", "n_clicks"),
    prevent_initial_call=True,
)
def share_with_hr(n_clicks):
    n = int(n_clicks or 0)
    return (
        f"Shared with HR {n} time(s).",
        f"Marketing shared its headline {n} time(s).",
    )


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8050, debug=False)
