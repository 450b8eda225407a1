import os, tempfile
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
wb = Workbook()
ws = wb.active
ws.title = "Sales"
ws.append(["region", "q1", "q2"])
for row in [["north", 10, 12], ["south", 7, 9]]:
    ws.append(row)
ws["D1"] = "total"
ws["D2"] = "=B2+C2"
ws["A1"].font = Font(bold=True)
path = os.path.join(tempfile.mkdtemp(), "report.xlsx")
wb.save(path)
back = load_workbook(path)
s = back["Sales"]
print(back.sheetnames, s.max_row, s.max_column, s["A1"].font.b)
print([[c.value for c in row] for row in s.iter_rows()])
