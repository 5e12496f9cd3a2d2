-- TPC-H Q12, shipping modes and order priority. Spec: SHIPMODE1 and SHIPMODE2 two different modes,
-- DATE January 1st of 1993 to 1997 (validation: MAIL, SHIP, 1994-01-01).
SELECT
    l_shipmode,
    sum(
        CASE WHEN o_orderpriority = '1-URGENT'
            OR o_orderpriority = '2-HIGH' THEN
            1
        ELSE
            0
        END) AS high_line_count,
    sum(
        CASE WHEN o_orderpriority <> '1-URGENT'
            AND o_orderpriority <> '2-HIGH' THEN
            1
        ELSE
            0
        END) AS low_line_count
FROM
    tpch.orders,
    tpch.lineitem
WHERE
    o_orderkey = l_orderkey
    AND l_shipmode IN ('{{modes.0}}', '{{modes.1}}')
    AND l_commitdate < l_receiptdate
    AND l_shipdate < l_commitdate
    AND l_receiptdate >= DATE '{{year}}'
    AND l_receiptdate < DATE '{{year + 1y}}'
GROUP BY
    l_shipmode
ORDER BY
    l_shipmode
