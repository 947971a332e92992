"""Home page: public to every signed-in user. Only `home-` ids live here."""
import datetime

import dash
from dash import Input, Output, callback, dcc, html, set_props

dash.register_page(__name__, path="/", name="Home", title="ngx-dash-auth demo", order=0)

layout = html.Div(
    [
        html.H2("ngx-dash-auth demo dashboard", id="home-title"),
        html.P(
            "This Dash app does no authentication of its own. nginx (ngx-dash-auth) "
            "signs users in, decides which sections each user may open, and checks "
            "every callback request before it reaches the app.",
            id="home-intro",
        ),
        html.P(
            "The navigation above lists only the sections your account may open.",
            id="home-hint",
        ),
        html.Button("Refresh status", id="home-refresh", n_clicks=0),
        html.Div(id="home-status", style={"marginTop": "0.5em"}),
    ]
)


@callback(
    Output("home-status", "children"),
    Input("home-refresh", "n_clicks"),
    prevent_initial_call=True,
)
def refresh_status(n_clicks):
    # A shared (home) callback that also writes into the hr section through
    # set_props: the gateway has to catch the `hr-note` side update.
    set_props("hr-note", {"children": f"HR note refreshed from home (click {n_clicks or 0})"})
    stamp = datetime.date(2024, 1, 1) + datetime.timedelta(days=int(n_clicks or 0))
    return f"Status refreshed {n_clicks or 0} time(s); data as of {stamp.isoformat()}."
