"""Great-circle distance and bounding boxes as SQL expressions (built-in types only, no extensions)."""

import math
from typing import Any

from sqlalchemy import ColumnElement, case, func

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = 111.045


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
    """`point(lng, lat) <@ box`: the index-backed prefilter (see ix_jobs_open_location) for a radius search."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    dlng = radius_km / (KM_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
    box = func.box(func.point(lng - dlng, lat - dlat), func.point(lng + dlng, lat + dlat))
    return func.point(lng_col, lat_col).op("<@")(box)
