-- TPC-H Q4, order priority checking. Spec: DATE the first of a month from 1993-01 to 1997-10, and
-- three months on (validation: 1993-07-01).
SELECT
    o_orderpriority,
    count(*) AS order_count
FROM
    tpch.orders
WHERE
    o_orderdate >= DATE '{{month}}'
    AND o_orderdate < DATE '{{month + 3m}}'
    AND EXISTS (
        SELECT
            *
        FROM
            tpch.lineitem
        WHERE
            l_orderkey = o_orderkey
            AND l_commitdate < l_receiptdate)
GROUP BY
    o_orderpriority
ORDER BY
    o_orderpriority
