/// The OpenAPI 3.1 description of Puente's HTTP API, served at `/openapi.json`.
/// A test keeps it true to the router: a route missing here fails it.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "Puente node API", "version": "1.0.0",
               "description": "Harmonised migration statistics of a Puente national node. Every figure is protected by disclosure control: cells below the threshold are suppressed and flagged."},
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
            {"name": "measure", "in": "query", "required": true, "schema": {"type": "string", "enum": ["returns", "entries", "exits", "net_movements", "events"]}},
            {"name": "by", "in": "query", "description": "Comma-separated dimensions, e.g. sex,age_group", "schema": {"type": "string"}},
            {"name": "filter", "in": "query", "description": "Comma-separated DIMENSION:CODE, e.g. year:2016,department:SV-CH", "schema": {"type": "string"}},
            {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"}}],
          "responses": {"200": {"description": "The table", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StatisticsTable"}}, "text/csv": {"schema": {"type": "string"}}}},
                        "400": {"description": "Unknown measure, dimension or code; the message lists what is allowed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
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
          "key": {"type": "array", "items": {"type": "string"}}, "value": {"type": ["integer", "null"]},
          "obsStatus": {"type": "string", "description": "SDMX OBS_STATUS: A normal, Q suppressed"},
          "confStatus": {"type": "string", "description": "SDMX CONF_STATUS: F free, A primary suppression"}}},
        "StatisticsTable": {"type": "object", "required": ["measure", "dimensions", "cells", "total", "disclosureThreshold"], "properties": {
          "measure": {"type": "string"}, "dimensions": {"type": "array", "items": {"type": "string"}},
          "filters": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
          "cells": {"type": "array", "items": {"$ref": "#/components/schemas/Cell"}}, "total": {"$ref": "#/components/schemas/Cell"},
          "disclosureThreshold": {"type": "integer"}}},
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
