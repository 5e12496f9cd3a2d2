-- TPC-H Q3, shipping priority. Spec: SEGMENT any, DATE a day of March 1995 (validation: BUILDING,
-- 1995-03-15). l_orderkey is added to the ORDER BY so that the top 10 is total (ties in revenue
-- and date would otherwise let engines pick different rows).
SELECT
    l_orderkey,
    sum(l_extendedprice * (1 - l_discount)) AS revenue,
    o_orderdate,
    o_shippriority
FROM
    tpch.customer,
    tpch.orders,
    tpch.lineitem
WHERE
    c_mktsegment = '{{segment}}'
    AND c_custkey = o_custkey
    AND l_orderkey = o_orderkey
    AND o_orderdate < DATE '{{day}}'
    AND l_shipdate > DATE '{{day}}'
GROUP BY
    l_orderkey,
    o_orderdate,
    o_shippriority
ORDER BY
    revenue DESC,
    o_orderdate,
    l_orderkey
LIMIT 10
