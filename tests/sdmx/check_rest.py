"""Reads a running node and hub through SDMX REST with sdmx1's Client, as a statistics office's tool
would, and checks the figures against their own JSON APIs.

    python check_rest.py NODE_URL HUB_URL
"""
import json
import sys
import urllib.request

import sdmx

TOTALS = ["_T"] * 9  # CITIZENSHIP … MIGRATION_STATUS, after FREQ.REF_AREA.MIG_FLOW.SEX.AGE


def client(base):
    # The source's id is the agency sdmx1 asks for: Puente's.
    sdmx.add_source({"id": "PUENTE", "url": base + "/sdmx", "name": "Puente"}, override=True)
    return sdmx.Client("PUENTE")


def api(base, path):
    with urllib.request.urlopen(base + path, timeout=60) as response:
        return json.loads(response.read())


def observations(message):
    """(series key values…, period) -> value, from every series of the message."""
    out = {}
    for series_key, series in message.data[0].series.items():
        key = tuple(str(v.value) for v in series_key.values.values())
        for obs in series:
            value = None if obs.value is None else float(obs.value)
            period = str(obs.dimension.values["TIME_PERIOD"].value)
            out[key + (period,)] = None if value is None or value != value else value  # NaN: suppressed
    return out


def check_node(base):
    c = client(base)
    flows = c.dataflow()
    assert "DF_MIG_FLOW" in flows.dataflow, list(flows.dataflow)
    key = ".".join(["A", "SLV", "RETURN", "F+M", ""] + TOTALS)
    got = observations(c.data("DF_MIG_FLOW", key=key, params={"startPeriod": "2016", "endPeriod": "2016"}))
    assert got, "no observations"
    table = api(base, "/api/v1/stats?measure=returns&by=sex,age_group,year&filter=year:2016")
    expected = {(c["key"][0], c["key"][1], c["key"][2]): c.get("value") for c in table["cells"] if c["key"][0] in "FM"}
    compared = 0
    for k, value in got.items():
        sex, age, period = k[3], k[4], k[-1]
        if age == "_T":
            continue
        assert expected[(sex, age, period)] == value, (k, value, expected[(sex, age, period)])
        compared += 1
    assert compared >= 10, compared
    print(f"node: {len(got)} observations read by sdmx1, {compared} checked against /api/v1/stats")


def check_hub(base):
    c = client(base)
    key = ".".join(["A", "", "RETURN", "F+M", "_T"] + TOTALS)
    got = observations(c.data("DF_MIG_FLOW", key=key))
    assert got, "no observations"
    regional = api(base, "/api/v1/regional/stats?measure=returns&by=reporting_country,sex,year")
    expected = {tuple(c["key"]): c.get("value") for c in regional["cells"] if c["key"][1] in ("F", "M")}
    for k, value in got.items():
        assert expected[(k[1], k[3], k[-1])] == value, (k, value)
    assert len(got) == len(expected), (len(got), len(expected))
    print(f"hub: {len(got)} observations read by sdmx1, each equal to /api/v1/regional/stats")


def check_programme(base, token):
    """The reintegration programme's flow, for an account entitled to protected figures: every series
    read by sdmx1 equals the programme's JSON API, and each observation names its unit."""
    c = client(base)
    c.session.headers["Authorization"] = "Bearer " + token
    flows = c.dataflow("DF_REINTEGRATION")
    assert "DF_REINTEGRATION" in flows.dataflow, list(flows.dataflow)
    dsd = flows.structure["DSD_REINTEGRATION"]
    assert [d.id for d in dsd.dimensions] == ["FREQ", "REF_AREA", "REINT_MEASURE", "SEX", "AGE", "TIME_PERIOD"]
    message = c.data("DF_REINTEGRATION", key="A..CASES+PLANS_30D+PLANS_APPROVED+FOLLOWUPS_RESPONDED+SUSTAINABLE.F+M._T")
    got = observations(message)
    units = {}
    for series_key, series in message.data[0].series.items():
        measure = str(series_key.values["REINT_MEASURE"].value)
        for obs in series:
            units[measure] = str(obs.attached_attribute["UNIT_MEASURE"].value)
    assert units.get("CASES") == "NUM" and units.get("PLANS_30D") == "PC", units

    def programme(measure):
        request = urllib.request.Request(base + f"/api/v1/programme/stats?measure={measure}&by=year,sex",
                                         headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    compared = 0
    for code, measure, part in (("CASES", "cases", "cells"), ("PLANS_30D", "plans_within_30_days", "cells"),
                                ("PLANS_APPROVED", "plans_within_30_days", "denominators"),
                                ("FOLLOWUPS_RESPONDED", "followups_responded", "cells"),
                                ("SUSTAINABLE", "sustainable", "cells")):
        table = programme(measure)["table"]
        expected = {(c["key"][1], c["key"][0]): c.get("value") for c in table[part] if c["key"][1] in ("F", "M")}
        read = {(k[3], k[-1]): v for k, v in got.items() if k[2] == code}
        assert read == expected, (code, read, expected)
        compared += len(read)
    assert compared >= 8, compared
    print(f"programme: {len(got)} observations read by sdmx1, {compared} checked against /api/v1/programme/stats")


if __name__ == "__main__":
    check_node(sys.argv[1])
    check_hub(sys.argv[2])
    if len(sys.argv) > 3:
        check_programme(sys.argv[1], sys.argv[3])
