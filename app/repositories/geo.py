"""Great-circle distance and bounding boxes as SQL expressions (built-in types only, no extensions)."""

import math
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_

EARTH_RADIUS_KM = 6371.0088
# Widens the box a little so float rounding never drops a point lying exactly on the circle.
BOX_MARGIN = 1.000001


def distance_km(lat1: Any, lng1: Any, lat2: Any, lng2: Any) -> ColumnElement[float]:
    """Haversine distance in km; NULL when any coordinate is NULL."""
    dlat = func.radians(lat2 - lat1)
    dlng = func.radians(lng2 - lng1)
    a = func.power(func.sin(dlat / 2.0), 2.0) + func.cos(func.radians(lat1)) * func.cos(
        func.radians(lat2)
    ) * func.power(func.sin(dlng / 2.0), 2)
    # CASE, not LEAST: LEAST ignores NULLs and would turn a missing location into a distance.
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(case((a > 1.0, 1.0), else_=a)))


def within_box(lat_col: Any, lng_col: Any, lat: float, lng: float, radius_km: float) -> ColumnElement[bool]:
    """`point(lng, lat) <@ box`: the index-backed prefilter (see ix_jobs_open_location) for a radius search.

    The box holds the whole circle on the sphere `distance_km` uses: its exact longitude half-width is
    asin(sin(d) / cos(lat)), every longitude when the circle reaches a pole, and a box that crosses the
    antimeridian is split in two.
    """
    south, north, spans = box_spans(lat, lng, radius_km)
    point = func.point(lng_col, lat_col)
    return or_(*(point.op("<@")(func.box(func.point(w, south), func.point(e, north))) for w, e in spans))


def box_spans(lat: float, lng: float, radius_km: float) -> tuple[float, float, list[tuple[float, float]]]:
    """South, north and the (west, east) spans of the box that holds the circle (see within_box)."""
    d = radius_km / EARTH_RADIUS_KM * BOX_MARGIN
    dlat = math.degrees(d)
    south, north = lat - dlat, lat + dlat
    cos_lat = math.cos(math.radians(lat))
    if north >= 90 or south <= -90 or math.sin(d) >= cos_lat:
        spans = [(-180.0, 180.0)]
    else:
        dlng = math.degrees(math.asin(math.sin(d) / cos_lat))
        west, east = lng - dlng, lng + dlng
        if west < -180:
            spans = [(-180.0, east), (west + 360, 180.0)]
        elif east > 180:
            spans = [(west, 180.0), (-180.0, east - 360)]
        else:
            spans = [(west, east)]
    return max(south, -90.0), min(north, 90.0), spans
