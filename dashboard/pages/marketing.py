"""Marketing section. Every component id here starts with `marketing-`."""
import dash
import plotly.graph_objects as go
from dash import ALL, MATCH, Input, Output, callback, dcc, html

from data import CAMPAIGNS, CHANNELS, MONTHS, channel_series, conversion_trend

dash.register_page(
    __name__,
    path="/marketing",
    name="Marketing",
    title="Marketing",
    description="Marketing section",
    order=1,
    section="marketing",
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
