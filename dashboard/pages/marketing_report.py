"""One campaign's report, at /marketing/report/<report_id>. A page of the
marketing section: its path starts with /marketing, its ids with `marketing-report-`."""
import itertools

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from data import CAMPAIGNS, campaign_slug, campaign_weekly_leads

BY_SLUG = {campaign_slug(name): name for name in CAMPAIGNS}


def _title(report_id=None, **_kwargs):
    name = BY_SLUG.get(report_id)
    return f"Report: {name}" if name else "Campaign report"


dash.register_page(
    __name__,
    path="/marketing/report",
    path_template="/marketing/report/<report_id>",
    name="Campaign report",
    title=_title,
    description="Marketing campaign report",
    order=3,
    section="marketing",
)


def layout(report_id=None, **_kwargs):
    name = BY_SLUG.get(report_id)
    if name is None:
        detail = html.P(
            f"There is no campaign report {report_id!r}." if report_id else "Choose a report on the Marketing page.",
            id="marketing-report-missing",
        )
    else:
        detail = html.Div(
            [
                dcc.RadioItems(
                    id="marketing-report-metric",
                    options=[{"label": "Leads per week", "value": "weekly"},
                             {"label": "Cumulative leads", "value": "cumulative"}],
                    value="weekly",
                    inline=True,
                ),
                dcc.Graph(id="marketing-report-graph"),
            ]
        )
    return html.Div(
        [
            dcc.Link("Back to Marketing", href=dash.get_relative_path("/marketing"), id="marketing-report-back"),
            html.H2(f"Campaign report: {name}" if name else "Campaign report", id="marketing-report-title"),
            # The id comes from the URL; React renders it as text.
            html.P(["Report id: ", html.Code(report_id or "none", id="marketing-report-id")]),
            dcc.Store(id="marketing-report-campaign", data=report_id),
            detail,
        ]
    )


@callback(
    Output("marketing-report-graph", "figure"),
    Input("marketing-report-metric", "value"),
    Input("marketing-report-campaign", "data"),
)
def draw_report(metric, report_id):
    name = BY_SLUG.get(report_id, CAMPAIGNS[0])
    leads = campaign_weekly_leads(name)
    if metric == "cumulative":
        leads = list(itertools.accumulate(leads))
    weeks = [f"W{i + 1}" for i in range(len(leads))]
    fig = go.Figure(go.Bar(x=weeks, y=leads))
    label = "Cumulative leads" if metric == "cumulative" else "Leads per week"
    fig.update_layout(title=f"{label}: {name}", margin={"t": 40})
    return fig
