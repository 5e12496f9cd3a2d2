-- TPC-H Q11, important stock identification. Spec: NATION any, FRACTION 0.0001 / SF (validation:
-- GERMANY at SF 1, 0.0001). With FRACTION shrinking as SF grows the result stays near a thousand
-- rows (1,048 at SF 1), so it is cut at 1000, with ps_partkey added to the ORDER BY to make the cut
-- total.
SELECT
    ps_partkey,
    sum(ps_supplycost * ps_availqty) AS value
FROM
    tpch.partsupp,
    tpch.supplier,
    tpch.nation
WHERE
    ps_suppkey = s_suppkey
    AND s_nationkey = n_nationkey
    AND n_name = '{{nation}}'
GROUP BY
    ps_partkey
HAVING
    sum(ps_supplycost * ps_availqty) > (
        SELECT
            sum(ps_supplycost * ps_availqty) * {{fraction}}
        FROM
            tpch.partsupp,
            tpch.supplier,
            tpch.nation
        WHERE
            ps_suppkey = s_suppkey
            AND s_nationkey = n_nationkey
            AND n_name = '{{nation}}')
ORDER BY
    value DESC,
    ps_partkey
LIMIT 1000
