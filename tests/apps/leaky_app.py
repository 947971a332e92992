"""The demo app with a plugin whose routes send what a careless plugin sends: a
page's layout as JSON for some other front end, the same streamed in chunks,
compressed, as an event stream, or very large. None of it is a Dash endpoint the
module knows; it must still keep a section's components from a user without it.

gunicorn -c gunicorn.conf.py leaky_app:server (with tests/apps on PYTHONPATH)
"""
import gzip
import json

import flask
import plotly
from dash import hooks


def _layout(path):
    import dash

    page = next(p for p in dash.page_registry.values() if p["path"] == path)
    layout = page["layout"]
    return layout() if callable(layout) else layout


def _json(path):
    return json.dumps({"page": path, "layout": _layout(path)}, cls=plotly.utils.PlotlyJSONEncoder)


def _path():
    return flask.request.args.get("path", "/marketing")


@hooks.route("api/layout")
def layout():
    return flask.Response(_json(_path()), mimetype="application/json")


@hooks.route("api/layout.html")
def layout_html():
    body = f'<html><body><script type="application/json" id="data">{_json(_path())}</script></body></html>'
    return flask.Response(body, mimetype="text/html")


@hooks.route("api/chunked")
def chunked():
    text = _json(_path())
    return flask.Response((text[i:i + 512] for i in range(0, len(text), 512)), mimetype="application/json")


@hooks.route("api/gzip")
def compressed():
    r = flask.Response(gzip.compress(_json(_path()).encode()), mimetype="application/json")
    r.headers["Content-Encoding"] = "gzip"
    return r


@hooks.route("api/events")
def events():
    return flask.Response(iter([f"data: {_json(_path())}\n\n"]), mimetype="text/event-stream")


@hooks.route("api/big")
def big():
    rows = [{"campaign": f"c{i}", "clicks": i} for i in range(int(flask.request.args.get("rows", "10")))]
    return flask.Response(json.dumps({"rows": rows}), mimetype="application/json")


from app import server  # noqa: E402,F401  (hooks first: Dash reads them when the app is made)
