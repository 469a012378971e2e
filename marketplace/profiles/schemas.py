from __future__ import annotations

import marshmallow as ma


class PublicProfileSchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()
    member_since = ma.fields.AwareDateTime()
    active_listings = ma.fields.Integer()
    sold_count = ma.fields.Integer()
    avoided_kgco2e_sold = ma.fields.Float(allow_none=True, metadata={
        "description": "Central avoided emissions of the user's completed sales, kg (null "
                       "unless the user chose to show carbon totals)"})
    rating = ma.fields.Float(allow_none=True,
                             metadata={"description": "Average review rating (null: none yet)"})
    review_count = ma.fields.Integer()
