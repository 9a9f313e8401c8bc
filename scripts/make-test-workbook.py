"""Writes Tests/PuenteTests/Fixtures/retornos.xlsx with openpyxl, an independent XLSX writer, so
that Puente's reader is tested against a workbook it did not write. Run once; the result is committed.

    python3 -m venv /tmp/xl && /tmp/xl/bin/pip install openpyxl && /tmp/xl/bin/python scripts/make-test-workbook.py
"""
import datetime
import pathlib
from openpyxl import Workbook

wb = Workbook()
notes = wb.active
notes.title = "Notas"
notes["A1"] = "Exportado del sistema de recepción; no editar los encabezados."
sheet = wb.create_sheet("Retornos")
sheet.append(["NUMERO_CASO", "FECHA_INGRESO", "SEXO", "EDAD", "MUNICIPIO", "DEPARTAMENTO", "OBSERVACIONES"])
rows = [
    ("C-1", datetime.date(2016, 3, 14), "Masculino", 34, "Ahuachapán", "Ahuachapán", "llegó en bus & sin documentos"),
    ("C-2", datetime.date(2016, 3, 15), "Femenino", 17, "San Miguel", "San Miguel", None),
    ("C-3", "16/03/2016", "H", None, "Santa Ana", "Santa Ana", "fecha escrita como texto"),
    ("C-4", datetime.date(2016, 3, 17), "Desconocido", 40, "Apaneca", "Ahuachapán", None),
    ("C-5", datetime.date(2016, 3, 18), "Femenino", 29, None, None, "<sin municipio>"),
]
for r in rows:
    sheet.append(list(r))
for cell in sheet["B"][1:]:
    if isinstance(cell.value, datetime.date):
        cell.number_format = "dd/mm/yyyy"
out = pathlib.Path(__file__).resolve().parent.parent / "Tests/PuenteTests/Fixtures/retornos.xlsx"
wb.save(out)
print(out)

# A second workbook in the style Excel itself writes (openpyxl writes inline strings): shared strings,
# one with rich-text runs and a phonetic run, a skipped row, a gap between cells, deflated parts.
import zipfile

strings = ["NUMERO_CASO", "FECHA_INGRESO", "SEXO", "EDAD", "MUNICIPIO", "DEPARTAMENTO",
           "Masculino", "Femenino", "Ahuachapán", "San Miguel"]
si = "".join(f"<si><t>{s}</t></si>" for s in strings)
si += "<si><r><rPr><b/></rPr><t>Santa </t></r><r><t>Ana</t></r><rPh sb=\"0\" eb=\"1\"><t>x</t></rPh></si>"  # 10
si += "<si><t xml:space=\"preserve\">C-1&amp;2</t></si>"  # 11
shared = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="12" uniqueCount="12">' + si + "</sst>")
def c(ref, v, t=None):
    return f'<c r="{ref}"' + (f' t="{t}"' if t else "") + f"><v>{v}</v></c>"
rows = [
    '<row r="1">' + "".join(c(f"{col}1", i, "s") for i, col in enumerate("ABCDEF")) + "</row>",
    '<row r="2">' + c("A2", 11, "s") + c("B2", 42443) + c("C2", 6, "s") + c("D2", 34) + c("E2", 8, "s") + c("F2", 8, "s") + "</row>",
    # row 3 left out, as Excel leaves out empty rows; row 4 has no age (a gap between C and E)
    '<row r="4">' + '<c r="A4" t="str"><v>C-3</v></c>' + c("B4", 42445) + c("C4", 7, "s") + c("E4", 10, "s") + "</row>",
]
sheet_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cols><col min="1" max="6" width="12"/></cols>'
             "<sheetData>" + "".join(rows) + "</sheetData></worksheet>")
workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Hoja1" sheetId="1" r:id="rId3"/></sheets></workbook>')
rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/hoja.xml"/>'
        "</Relationships>")
excel_style = out.with_name("retornos-excel-style.xlsx")
with zipfile.ZipFile(excel_style, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("xl/workbook.xml", workbook)
    z.writestr("xl/_rels/workbook.xml.rels", rels)
    z.writestr("xl/sharedStrings.xml", shared)
    z.writestr("xl/worksheets/hoja.xml", sheet_xml)
print(excel_style)
