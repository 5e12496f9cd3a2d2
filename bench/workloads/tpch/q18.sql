-- TPC-H Q18, large volume customer. Spec: QUANTITY in [312, 315] (validation: 300). o_orderkey is
-- added to the ORDER BY so that the top 100 is total.
SELECT
    c_name,
    c_custkey,
    o_orderkey,
    o_orderdate,
    o_totalprice,
    sum(l_quantity)
FROM
    tpch.customer,
    tpch.orders,
    tpch.lineitem
WHERE
    o_orderkey IN (
        SELECT
            l_orderkey
        FROM
            tpch.lineitem
        GROUP BY
            l_orderkey
        HAVING
            sum(l_quantity) > {{quantity}})
    AND c_custkey = o_custkey
    AND o_orderkey = l_orderkey
GROUP BY
    c_name,
    c_custkey,
    o_orderkey,
    o_orderdate,
    o_totalprice
ORDER BY
    o_totalprice DESC,
    o_orderdate,
    o_orderkey
LIMIT 100
