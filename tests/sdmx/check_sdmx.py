"""Reads Puente's SDMX output with an independent reader (sdmx1) and checks it against the structure
Puente publishes: every coded value is in its code list, every series key is unique, and the
observations are all there. SDMX-JSON 2.0 (which sdmx1 does not read) is checked by walking its
index-based keys back to codes.

    python check_sdmx.py STRUCTURE.xml DATA.csv [DATA.csv ...] [DATA.json ...]
"""
import json
import sys

import sdmx


def codelists_of(message):
    """Code list id -> set of code ids, as declared in the structure message."""
    return {cl.id: {code.id for code in cl.items.values()} for cl in message.codelist.values()}


def enumerations(dsd):
    """Component id -> code list id, for coded dimensions and attributes."""
    out = {}
    for component in list(dsd.dimensions.components) + list(dsd.attributes.components):
        representation = getattr(component, "local_representation", None)
        enumerated = getattr(representation, "enumerated", None) if representation else None
        if enumerated is not None:
            out[component.id] = enumerated.id
    return out


def check_csv(path, dsd, lists, coded):
    with open(path, encoding="utf-8") as f:
        rows = sum(1 for _ in f) - 1
    message = sdmx.read_sdmx(path, structure=dsd)
    observations = [obs for dataset in message.data for obs in dataset.obs]
    assert len(observations) == rows, f"{path}: {len(observations)} observations read, {rows} rows written"
    keys = set()
    for obs in observations:
        key = tuple((kv.id, str(kv.value)) for kv in obs.key.values.values())
        assert key not in keys, f"{path}: key {key} appears twice"
        keys.add(key)
        values = dict(key)
        values.update({a: str(v.value) for a, v in obs.attached_attribute.items()})
        for component, value in values.items():
            if component in coded:
                assert value in lists[coded[component]], f"{path}: {component}={value} is not in {coded[component]}"
    return len(observations)


def check_json(path, dsd, lists, coded):
    message = json.load(open(path, encoding="utf-8"))
    structure = message["data"]["structures"][0]
    dimensions = structure["dimensions"]["observation"]
    expected = [d.id for d in dsd.dimensions.components]
    assert [d["id"] for d in dimensions] == expected, f"{path}: dimensions {[d['id'] for d in dimensions]} != DSD {expected}"
    attributes = structure["attributes"]["observation"]
    observations = message["data"]["dataSets"][0]["observations"]
    keys = set()
    for index_key, observation in observations.items():
        codes = tuple(dimensions[i]["values"][int(k)]["id"] for i, k in enumerate(index_key.split(":")))
        assert codes not in keys, f"{path}: key {codes} appears twice"
        keys.add(codes)
        for dimension, code in zip(dimensions, codes):
            if dimension["id"] in coded:
                assert code in lists[coded[dimension["id"]]], f"{path}: {dimension['id']}={code} not in its code list"
        for attribute, value_index in zip(attributes, observation[1:]):
            code = attribute["values"][value_index]["id"]
            assert code in lists[coded[attribute["id"]]], f"{path}: {attribute['id']}={code} not in its code list"
    return len(observations)


def main():
    structure = sdmx.read_sdmx(sys.argv[1])
    dsd = structure.structure["DSD_MIG_FLOW"]
    assert structure.dataflow["DF_MIG_FLOW"].structure.id == "DSD_MIG_FLOW"
    lists = codelists_of(structure)
    coded = enumerations(dsd)
    assert {"SEX", "AGE", "TERRITORY", "OBS_STATUS", "CONF_STATUS"} <= set(coded), coded
    for path in sys.argv[2:]:
        n = check_json(path, dsd, lists, coded) if path.endswith(".json") else check_csv(path, dsd, lists, coded)
        assert n > 0, f"{path}: no observations"
        print(f"{path}: {n} observations, codes and keys valid")


if __name__ == "__main__":
    main()
