"""QtCharts helpers with the app's look: light, no shadows, slate axes, few grid lines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal

from PySide6.QtCharts import (
    QAbstractAxis,
    QAreaSeries,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QDateTimeAxis,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

from parking_desktop.ui.common import formatting as fmt

GREEN, AMBER, RED, BLUE = "#22c55e", "#f59e0b", "#ef4444", "#3b82f6"
AXIS = QColor("#64748b")
GRID = QColor("#eef2f7")


def chart_view(name: str, parent: QWidget | None = None) -> QChartView:
    view = QChartView(parent)
    view.setAccessibleName(name)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(200)
    view.setStyleSheet("background: transparent;")
    view.setChart(_new_chart())
    return view


def _new_chart() -> QChart:
    chart = QChart()
    chart.setBackgroundVisible(False)
    chart.setDropShadowEnabled(False)
    chart.setMargins(QMargins(2, 4, 10, 12))  # room for bottom axis labels
    chart.layout().setContentsMargins(0, 0, 0, 0)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    legend = chart.legend()
    legend.setAlignment(Qt.AlignmentFlag.AlignBottom)
    legend.setLabelColor(AXIS)
    font = QFont(legend.font())
    font.setPointSizeF(8.5)
    legend.setFont(font)
    return chart


def _replace(view: QChartView, chart: QChart) -> None:
    old = view.chart()
    view.setChart(chart)
    if old is not None:
        old.deleteLater()


def _style_axis(axis: QAbstractAxis) -> None:
    font = QFont(axis.labelsFont())
    font.setPointSizeF(8.0)
    axis.setLabelsFont(font)
    axis.setLabelsColor(AXIS)
    axis.setGridLineColor(GRID)
    axis.setLinePen(QPen(QColor("#cbd5e1")))
    axis.setShadesVisible(False)
    axis.setTruncateLabels(False)


def _value_axis(maximum: float, label_format: str = "%d", *,
                signed: bool = False) -> QValueAxis:
    """0 to a round top; ``signed``: from minus to plus that top (changes up and down)."""
    top, step = nice_scale(maximum)
    axis = QValueAxis()
    axis.setRange(-top if signed else 0, top)
    axis.setTickCount(round(top / step) * (2 if signed else 1) + 1)
    axis.setLabelFormat(label_format)
    _style_axis(axis)
    return axis


def nice_scale(maximum: float, max_ticks: int = 5) -> tuple[float, float]:
    """A round top and step, so an axis reads 0, 50, 100, 150 rather than 0, 37.5, 75, …"""
    if maximum <= 0:
        return 4.0, 1.0
    magnitude = 10 ** math.floor(math.log10(maximum / max_ticks)) if maximum >= max_ticks else 1
    for factor in (1, 2, 5, 10, 20, 50):  # whole-number steps only
        step = factor * magnitude
        if maximum / step <= max_ticks:
            return step * math.ceil(maximum / step), float(step)
    return float(maximum), float(maximum)


def set_revenue_per_day(view: QChartView, days: Sequence[tuple[str, Decimal]]) -> None:
    """Revenue per day as a filled line over the last weeks."""
    chart = _new_chart()
    upper = QLineSeries()
    lower = QLineSeries()
    for day, amount in days:
        x = float(datetime.combine(date.fromisoformat(day), time(12)).timestamp() * 1000)
        upper.append(x, float(amount))
        lower.append(x, 0.0)
    area = QAreaSeries(upper, lower)
    upper.setParent(area)  # QAreaSeries does not own its lines; keep them alive with it
    lower.setParent(area)
    area.setName(f"Revenue ({fmt.site_currency()})")
    colour = QColor(BLUE)
    area.setPen(QPen(colour, 2))
    fill = QColor(BLUE)
    fill.setAlpha(50)
    area.setBrush(QBrush(fill))
    chart.addSeries(area)
    chart.legend().setVisible(False)
    axis_x = QDateTimeAxis()
    axis_x.setFormat("d MMM")
    axis_x.setTickCount(6)
    _style_axis(axis_x)
    axis_x.setGridLineVisible(False)
    axis_y = _value_axis(max((float(a) for _, a in days), default=0), "%.0f")
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    area.attachAxis(axis_x)
    area.attachAxis(axis_y)
    _replace(view, chart)


def set_bars(view: QChartView, labels: Sequence[str], values: Sequence[float], name: str,
             colour: str = BLUE, label_format: str = "%d") -> None:
    """One series of vertical bars (bookings by hour, spend per month)."""
    axis_x = QBarCategoryAxis()
    axis_x.append(list(labels))
    _bar_chart(view, values, name, colour, axis_x, label_format)


def _bar_chart(view: QChartView, values: Sequence[float], name: str, colour: str,
               axis_x: QAbstractAxis, label_format: str = "%d", *, signed: bool = False) -> None:
    """One series of bars along ``axis_x``, with a value axis from 0 to the largest value
    (``signed``: symmetric around 0, for values that may be negative)."""
    chart = _new_chart()
    series = QBarSeries()
    series.setBarWidth(0.7)
    bar = QBarSet(name)
    bar.setColor(QColor(colour))
    bar.setBorderColor(QColor(colour))
    bar.append([float(v) for v in values])
    series.append(bar)
    chart.addSeries(series)
    chart.legend().setVisible(False)
    _style_axis(axis_x)
    axis_x.setGridLineVisible(False)
    largest = max(((abs(float(v)) if signed else float(v)) for v in values), default=0)
    axis_y = _value_axis(largest, label_format, signed=signed)
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(axis_x)
    series.attachAxis(axis_y)
    _replace(view, chart)


def set_hours(view: QChartView, values: Sequence[int], name: str = "Bookings") -> None:
    """Bookings per hour of day: 24 bars; hour labels thinned to what the width can hold."""
    _bar_chart(view, values, name, BLUE, _hour_axis(view, len(values)))


def set_hour_changes(view: QChartView, values: Sequence[float], name: str) -> None:
    """A change (up or down) per hour of day: 24 bars around a zero line (what-if repricing:
    revenue change by hour of arrival)."""
    _bar_chart(view, values, name, AMBER, _hour_axis(view, len(values)), "%.0f", signed=True)


def _hour_axis(view: QChartView, hours: int) -> QCategoryAxis:
    axis_x = QCategoryAxis()
    axis_x.setRange(-0.5, hours - 0.5)
    axis_x.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
    step = hour_label_step(view.width(), hours)
    for hour in range(0, hours, step):
        axis_x.append(f"{hour}h", hour)
    return axis_x


def hour_label_step(width: int, hours: int = 24, label_width: int = 30) -> int:
    """Every hour labelled when there is room, else every 2nd, 3rd, 4th or 6th hour."""
    room = max(1, width - 60)  # the value axis and margins
    for step in (1, 2, 3, 4, 6, 12):
        if (hours / step) * label_width <= room:
            return step
    return 12
