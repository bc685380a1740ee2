"""The tariff editor (Lots → Tariff…): bands, increments, grace, cap, holidays, a calculator
and what-if repricing. docs/desktop.md, docs/tariffs.md."""
