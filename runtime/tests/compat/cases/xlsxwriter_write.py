import os, tempfile, zipfile
import xlsxwriter
path = os.path.join(tempfile.mkdtemp(), "out.xlsx")
wb = xlsxwriter.Workbook(path)
ws = wb.add_worksheet("Data")
bold = wb.add_format({"bold": True})
ws.write_row(0, 0, ["x", "y"], bold)
for i in range(1, 6):
    ws.write_row(i, 0, [i, i * i])
ws.write_formula(6, 1, "=SUM(B2:B6)")
chart = wb.add_chart({"type": "line"})
chart.add_series({"values": "=Data!$B$2:$B$6"})
ws.insert_chart("D2", chart)
wb.close()
with zipfile.ZipFile(path) as z:
    names = sorted(z.namelist())
    sheet = z.read("xl/worksheets/sheet1.xml").decode()
print([n for n in names if n.startswith("xl/")])
print("SUM(B2:B6)" in sheet, sheet.count("<row "))
