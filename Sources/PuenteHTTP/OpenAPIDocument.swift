/// The OpenAPI 3.1 description of Puente's HTTP API, served at `/openapi.json`.
/// A test keeps it true to the router: a route missing here fails it.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "Puente node API", "version": "1.0.0",
               "description": "Harmonised migration statistics of a Puente national node. Every figure is protected by disclosure control: the cell key method perturbs ad-hoc figures (flagged E), cells below the threshold are suppressed (flagged Q), fixed tables use complementary suppression."},
      "paths": {
        "/health": {"get": {"summary": "Liveness", "operationId": "health",
          "responses": {"200": {"description": "The process runs", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"type": "string"}}}}}}}}},
        "/ready": {"get": {"summary": "Readiness: the store answers", "operationId": "ready",
          "responses": {"200": {"description": "Ready", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "503": {"description": "The store does not answer", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
        "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
          "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/": {"get": {"summary": "Overview page (HTML)", "operationId": "overview",
          "parameters": [{"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["es", "en"]}}],
          "responses": {"200": {"description": "Headline figures", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/api/v1/stats": {"get": {"summary": "A statistic, disaggregated and filtered", "operationId": "getStats",
          "parameters": [
            {"name": "measure", "in": "query", "required": true, "schema": {"type": "string", "enum": ["returns", "entries", "exits", "net_movements", "events", "returns_per_1000", "child_share", "unaccompanied_share", "coverage_sex", "coverage_age", "coverage_municipality", "coverage_document", "mirror_coverage"]}},
            {"name": "by", "in": "query", "description": "Comma-separated dimensions, e.g. sex,age_group", "schema": {"type": "string"}},
            {"name": "filter", "in": "query", "description": "Comma-separated DIMENSION:CODE, e.g. year:2016,department:SV-CH", "schema": {"type": "string"}},
            {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "sdmx-csv", "sdmx-json"], "default": "json"}},
            {"name": "protection", "in": "query", "description": "ckm (cell key method, default) or suppression (threshold and complementary suppression, for fixed tables); exact values need an entitled role", "schema": {"type": "string", "enum": ["ckm", "suppression", "none"]}}],
          "responses": {"200": {"description": "The table", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StatisticsTable"}}, "text/csv": {"schema": {"type": "string"}},
                          "application/vnd.sdmx.data+csv; version=2.0.0": {"schema": {"type": "string"}}, "application/vnd.sdmx.data+json; version=2.0.0": {"schema": {"type": "object"}}}},
                        "400": {"description": "Unknown measure, dimension or code; the message lists what is allowed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                        "403": {"description": "Unprotected figures asked by a role not entitled to them", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
        "/api/v1/sdmx/structure": {"get": {"summary": "SDMX-ML 2.1 structure message: dataflow PUENTE:DF_MIG_FLOW(1.0), its DSD, concepts and code lists", "operationId": "getSDMXStructure",
          "responses": {"200": {"description": "The structure", "content": {"application/vnd.sdmx.structure+xml; version=2.1": {"schema": {"type": "string"}}}}}}},
        "/api/v1/measures": {"get": {"summary": "Measures and dimensions", "operationId": "getMeasures",
          "responses": {"200": {"description": "Allowed names", "content": {"application/json": {"schema": {"type": "object", "properties": {"measures": {"type": "array", "items": {"type": "string"}}, "dimensions": {"type": "array", "items": {"type": "string"}}}}}}}}}},
        "/api/v1/codelists": {"get": {"summary": "Code lists with versions and validity", "operationId": "listCodeLists",
          "responses": {"200": {"description": "Summaries", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/CodeListSummary"}}}}}}}},
        "/api/v1/codelists/{id}": {"get": {"summary": "One code list", "operationId": "getCodeList",
          "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
          "responses": {"200": {"description": "The list", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CodeList"}}}},
                        "404": {"description": "No such list", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
        "/api/v1/imports": {"get": {"summary": "Recent import batches and their counts", "operationId": "listImports",
          "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}}],
          "responses": {"200": {"description": "Newest first", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/ImportRecord"}}}}},
                        "400": {"description": "Bad limit", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}}
      },
      "components": {"schemas": {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
        "Cell": {"type": "object", "required": ["key", "obsStatus", "confStatus"], "properties": {
          "key": {"type": "array", "items": {"type": "string"}}, "value": {"type": ["number", "null"]},
          "obsStatus": {"type": "string", "description": "SDMX OBS_STATUS: A normal, E perturbed by the cell key method, Q suppressed, M/O no denominator or population"},
          "confStatus": {"type": "string", "description": "SDMX CONF_STATUS: F free, A primary suppression, D secondary suppression"},
          "changePrevious": {"type": ["number", "null"], "description": "Change on the previous period, percent"},
          "changeYearAgo": {"type": ["number", "null"], "description": "Change on the same period a year before, percent"}}},
        "StatisticsTable": {"type": "object", "required": ["measure", "dimensions", "cells", "total", "protection"], "properties": {
          "measure": {"type": "string"}, "dimensions": {"type": "array", "items": {"type": "string"}},
          "filters": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
          "cells": {"type": "array", "items": {"$ref": "#/components/schemas/Cell"}}, "total": {"$ref": "#/components/schemas/Cell"},
          "protection": {"type": "object", "properties": {"method": {"type": "string"}, "threshold": {"type": "integer"}, "maxNoise": {"type": "integer"}, "variance": {"type": "number"}}}}},
        "CodeListSummary": {"type": "object", "properties": {"id": {"type": "string"}, "agency": {"type": "string"}, "version": {"type": "string"}, "name": {"type": "string"}, "validFrom": {"type": "string"}, "validTo": {"type": "string"}, "source": {"type": "string"}, "codes": {"type": "integer"}}},
        "CodeList": {"type": "object", "properties": {"id": {"type": "string"}, "agency": {"type": "string"}, "version": {"type": "string"}, "name": {"type": "string"}, "validFrom": {"type": "string"}, "validTo": {"type": "string"}, "source": {"type": "string"},
          "codes": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "nameEN": {"type": "string"}, "parent": {"type": "string"}}}}}},
        "ImportRecord": {"type": "object", "properties": {"id": {"type": "integer"}, "status": {"type": "string", "enum": ["pending", "committed", "rolled_back"]}, "startedAt": {"type": "string"},
          "request": {"type": "object", "properties": {"profile": {"type": "string"}, "agency": {"type": "string"}, "file": {"type": "string"}, "contentHash": {"type": "string"}}},
          "counts": {"type": "object", "properties": {"read": {"type": "integer"}, "accepted": {"type": "integer"}, "rejected": {"type": "integer"}, "duplicates": {"type": "integer"}}}}}
      }}
    }
    """#
}
