"""HR section. Every component id here starts with `hr-`."""
import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html, set_props

from data import DEPARTMENTS, headcount

dash.register_page(
    __name__,
    path="/hr",
    name="HR",
    title="HR",
    description="HR section",
    order=2,
    section="hr",
)


def layout(**_kwargs):
    return html.Div(
        [
            html.H2("HR", id="hr-title"),
            dcc.Link("Staff directory", href=dash.get_relative_path("/people"), id="hr-people-link"),
            html.Label("Department", htmlFor="hr-dept"),
            dcc.Dropdown(
                id="hr-dept",
                options=[{"label": d.title(), "value": d} for d in DEPARTMENTS],
                value="engineering",
                clearable=False,
            ),
            html.Label("Years shown", htmlFor="hr-slider"),
            dcc.Slider(id="hr-slider", min=2, max=10, step=1, value=5),
            dcc.Graph(id="hr-graph"),
            html.Div(id="hr-note"),
            html.Div(id="hr-share-status"),
        ]
    )


@callback(
    Output("hr-graph", "figure"),
    Input("hr-slider", "value"),
    Input("hr-dept", "value"),
)
def draw_headcount(years, department):
    years = max(2, min(10, int(years or 5)))
    if department not in DEPARTMENTS:
        department = DEPARTMENTS[0]
    labels, counts = headcount(department, years)
    fig = go.Figure(go.Bar(x=labels, y=counts))
    fig.update_layout(title=f"Headcount: {department}", margin={"t": 40})
    # set_props from within the section: a side update to another hr- id.
    set_props("hr-note", {"children": f"{department}: {counts[-1]} people at end of {labels[-1]}"})
    return fig
