"""The staff directory: a page of the hr section at /people, a path that does
not start with the section's name. Its ids start with `hr-people-` like every
hr id; nginx learns that /people is hr from `dash_auth_section_paths hr /people;`."""
import dash
from dash import Input, Output, callback, dcc, html

from data import DEPARTMENTS, staff

dash.register_page(
    __name__,
    path="/people",
    name="Staff directory",
    title="Staff directory",
    description="HR staff directory",
    order=4,
    section="hr",
    # The directory used to live under the HR page.
    redirect_from=["/hr/directory"],
)

ALL_DEPARTMENTS = "all"


def layout(**_kwargs):
    return html.Div(
        [
            dcc.Link("Back to HR", href=dash.get_relative_path("/hr"), id="hr-people-back"),
            html.H2("Staff directory", id="hr-people-title"),
            html.Label("Department", htmlFor="hr-people-dept"),
            dcc.Dropdown(
                id="hr-people-dept",
                options=[{"label": "All departments", "value": ALL_DEPARTMENTS}]
                + [{"label": d.title(), "value": d} for d in DEPARTMENTS],
                value=ALL_DEPARTMENTS,
                clearable=False,
            ),
            html.P(id="hr-people-count"),
            html.Table(
                [
                    html.Thead(html.Tr([html.Th(h) for h in ("Name", "Department", "Role", "Since")])),
                    html.Tbody(id="hr-people-rows"),
                ],
                id="hr-people-table",
            ),
        ]
    )


@callback(
    Output("hr-people-rows", "children"),
    Output("hr-people-count", "children"),
    Input("hr-people-dept", "value"),
)
def list_people(department):
    people = [p for p in staff() if department in (None, ALL_DEPARTMENTS) or p["department"] == department]
    rows = [
        html.Tr([html.Td(p["name"]), html.Td(p["department"].title()), html.Td(p["role"]), html.Td(str(p["since"]))])
        for p in people
    ]
    return rows, f"{len(people)} people"
