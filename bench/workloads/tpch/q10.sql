-- TPC-H Q10, returned item reporting. Spec: DATE the first of a month from 1993-02 to 1995-01, and
-- three months on (validation: 1993-10-01). c_custkey is added to the ORDER BY so that the top 20
-- is total.
SELECT
    c_custkey,
    c_name,
    sum(l_extendedprice * (1 - l_discount)) AS revenue,
    c_acctbal,
    n_name,
    c_address,
    c_phone,
    c_comment
FROM
    tpch.customer,
    tpch.orders,
    tpch.lineitem,
    tpch.nation
WHERE
    c_custkey = o_custkey
    AND l_orderkey = o_orderkey
    AND o_orderdate >= DATE '{{month}}'
    AND o_orderdate < DATE '{{month + 3m}}'
    AND l_returnflag = 'R'
    AND c_nationkey = n_nationkey
GROUP BY
    c_custkey,
    c_name,
    c_acctbal,
    c_phone,
    n_name,
    c_address,
    c_comment
ORDER BY
    revenue DESC,
    c_custkey
LIMIT 20
