-- TPC-H Q15, top supplier (DuckDB's form, with a CTE for the view). Spec: DATE the first of a month
-- from 1993-01 to 1997-10, and three months on (validation: 1996-01-01).
WITH revenue AS (
    SELECT
        l_suppkey AS supplier_no,
        sum(l_extendedprice * (1 - l_discount)) AS total_revenue
    FROM
        tpch.lineitem
    WHERE
        l_shipdate >= DATE '{{month}}'
      AND l_shipdate < DATE '{{month + 3m}}'
    GROUP BY
        supplier_no
)
SELECT
    s_suppkey,
    s_name,
    s_address,
    s_phone,
    total_revenue
FROM
    tpch.supplier,
    revenue
WHERE
    s_suppkey = supplier_no
    AND total_revenue = (
        SELECT
            max(total_revenue)
        FROM revenue)
ORDER BY
    s_suppkey
