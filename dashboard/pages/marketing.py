"""Marketing section. Every component id here starts with `marketing-`."""
import secrets
import time

import dash
import plotly.graph_objects as go
from dash import ALL, MATCH, Input, Output, State, callback, clientside_callback, dcc, html

from data import (CAMPAIGNS, CHANNELS, MONTHS, campaign_slug, channel_attribution, channel_series,
                  conversion_trend)

# The attribution model fits each channel twice; each step is slow on purpose,
# so that the page shows progress and a run can be cancelled.
ATTRIBUTION_PASSES = 2
ATTRIBUTION_STEPS = ATTRIBUTION_PASSES * len(CHANNELS)
ATTRIBUTION_STEP_SECONDS = 0.5

dash.register_page(
    __name__,
    path="/marketing",
    name="Marketing",
    title="Marketing",
    description="Marketing section",
    order=1,
    section="marketing",
    # The campaigns page of an earlier version of the dashboard; bookmarks to it
    # still work. Dash answers it with a 301 from a Flask route of its own,
    # under /marketing so that the section check covers it.
    redirect_from=["/marketing/campaigns"],
)


def layout(**_kwargs):
    return html.Div(
        [
            html.H2("Marketing", id="marketing-title"),
            html.Label("Channel", htmlFor="marketing-dropdown"),
            dcc.Dropdown(
                id="marketing-dropdown",
                options=[{"label": c.title(), "value": c} for c in CHANNELS],
                value="email",
                clearable=False,
            ),
            dcc.Graph(id="marketing-graph"),
            html.H3("Conversion trend"),
            html.Label("Months shown", htmlFor="marketing-months"),
            dcc.Slider(id="marketing-months", min=1, max=12, step=1, value=6),
            dcc.Graph(id="marketing-trend"),
            html.Div(id="marketing-summary"),
            html.H3("Campaign budgets"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(name + ": "),
                            dcc.Input(
                                id={"type": "marketing-budget", "index": i},
                                type="number",
                                value=1000 * (i + 1),
                                min=0,
                            ),
                            html.Span(id={"type": "marketing-item", "index": i}),
                        ]
                    )
                    for i, name in enumerate(CAMPAIGNS)
                ],
                id="marketing-items",
            ),
            html.Div(id="marketing-total"),
            html.H3("Campaign reports"),
            html.Ul(
                [
                    html.Li(dcc.Link(name, href=dash.get_relative_path(f"/marketing/report/{campaign_slug(name)}"),
                                     id=f"marketing-report-link-{campaign_slug(name)}"))
                    for name in CAMPAIGNS
                ],
                id="marketing-reports",
            ),
            html.H3("Attribution model"),
            html.P(
                "Credits the conversions of the months shown above to each channel. "
                "The model runs in the background; the page stays usable meanwhile.",
                id="marketing-attribution-hint",
            ),
            # Dash keys a background job's progress and result by the callback's
            # arguments: without a token of this page load, two people starting
            # the same run at once would read each other's progress and result.
            dcc.Store(id="marketing-attribution-token", data=secrets.token_hex(8)),
            html.Button("Run attribution model", id="marketing-attribution-run", n_clicks=0),
            html.Button("Cancel", id="marketing-attribution-cancel", n_clicks=0, disabled=True,
                        style={"marginLeft": "0.5em"}),
            html.Div(
                [
                    html.Progress(id="marketing-attribution-progress", value="0", max=str(ATTRIBUTION_STEPS)),
                    html.Span(id="marketing-attribution-status", style={"marginLeft": "0.5em"}),
                ],
                style={"margin": "0.5em 0"},
            ),
            html.Div(id="marketing-attribution-result"),
            html.H3("Methodology"),
            html.Button("Show methodology", id="marketing-method-toggle", n_clicks=0),
            html.Div(
                [
                    html.P("Leads are counted when a contact form is submitted; a conversion is a "
                           "signed order within 90 days of the lead."),
                    html.P("Attribution credits each conversion to the channels that brought the "
                           "lead in, weighted by the channel's cost per lead."),
                ],
                id="marketing-method",
                style={"display": "none"},
            ),
            html.H3("Share with HR"),
            html.Button("Share headline with HR", id="marketing-share", n_clicks=0),
            html.Div(id="marketing-share-status"),
        ]
    )


@callback(Output("marketing-graph", "figure"), Input("marketing-dropdown", "value"))
def draw_channel(channel):
    if channel not in CHANNELS:
        channel = CHANNELS[0]
    fig = go.Figure(go.Bar(x=MONTHS, y=channel_series(channel), name=channel))
    fig.update_layout(title=f"Monthly leads: {channel}", margin={"t": 40})
    return fig


@callback(
    Output("marketing-trend", "figure"),
    Output("marketing-summary", "children"),
    Input("marketing-months", "value"),
)
def draw_trend(months):
    months = max(1, min(12, int(months or 12)))
    labels, values = conversion_trend(months)
    fig = go.Figure(go.Scatter(x=labels, y=values, mode="lines+markers"))
    fig.update_layout(title="Conversion rate (%)", margin={"t": 40})
    avg = sum(values) / len(values)
    return fig, f"Average conversion over {months} month(s): {avg:.2f}%"


@callback(
    Output({"type": "marketing-item", "index": MATCH}, "children"),
    Input({"type": "marketing-budget", "index": MATCH}, "value"),
)
def item_note(budget):
    budget = float(budget or 0)
    return f" {budget:,.0f} EUR ({'high' if budget >= 2500 else 'normal'})"


@callback(
    Output("marketing-total", "children"),
    Input({"type": "marketing-budget", "index": ALL}, "value"),
)
def total_budget(budgets):
    total = sum(float(b or 0) for b in budgets)
    return f"Total budget over {len(budgets)} campaign(s): {total:,.0f} EUR"


@callback(
    Output("marketing-attribution-result", "children"),
    Input("marketing-attribution-run", "n_clicks"),
    State("marketing-months", "value"),
    State("marketing-attribution-token", "data"),
    background=True,
    progress=[
        Output("marketing-attribution-progress", "value"),
        Output("marketing-attribution-progress", "max"),
        Output("marketing-attribution-status", "children"),
    ],
    progress_default=["0", str(ATTRIBUTION_STEPS), ""],
    running=[
        (Output("marketing-attribution-run", "disabled"), True, False),
        (Output("marketing-attribution-cancel", "disabled"), False, True),
    ],
    cancel=[Input("marketing-attribution-cancel", "n_clicks")],
    interval=500,
    prevent_initial_call=True,
)
def run_attribution(set_progress, n_clicks, months, _token):
    months = max(1, min(12, int(months or 12)))
    weights = {c: 0.0 for c in CHANNELS}
    step = 0
    for n_pass in range(ATTRIBUTION_PASSES):
        for channel in CHANNELS:
            step += 1
            set_progress((str(step), str(ATTRIBUTION_STEPS),
                          f"Fitting {channel}, pass {n_pass + 1} of {ATTRIBUTION_PASSES} "
                          f"(step {step} of {ATTRIBUTION_STEPS})"))
            time.sleep(ATTRIBUTION_STEP_SECONDS)
            weights[channel] += channel_attribution(channel, months) / ATTRIBUTION_PASSES
    total = sum(weights.values())
    return [
        html.P(f"Run {n_clicks or 0}: attribution over {months} month(s)"),
        html.Ul([html.Li(f"{c}: {100 * w / total:.1f}%") for c, w in weights.items()]),
    ]


# Showing or hiding a paragraph needs no data: it runs in the browser, and no
# request reaches nginx or the app.
clientside_callback(
    """
    function (n) {
        const open = (n || 0) % 2 === 1;
        return [{display: open ? "block" : "none"}, open ? "Hide methodology" : "Show methodology"];
    }
    """,
    Output("marketing-method", "style"),
    Output("marketing-method-toggle", "children"),
    Input("marketing-method-toggle", "n_clicks"),
)
