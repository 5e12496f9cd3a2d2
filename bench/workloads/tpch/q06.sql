-- TPC-H Q6, forecasting revenue change. Spec: DATE January 1st of 1993 to 1997, DISCOUNT in
-- [0.02, 0.09], QUANTITY 24 or 25 (validation: 1994-01-01, 0.06, 24).
SELECT
    sum(l_extendedprice * l_discount) AS revenue
FROM
    tpch.lineitem
WHERE
    l_shipdate >= DATE '{{year}}'
    AND l_shipdate < DATE '{{year + 1y}}'
    AND l_discount BETWEEN {{discount - 0.01}}
    AND {{discount + 0.01}}
    AND l_quantity < {{quantity}}
