-- TPC-H Q20, potential part promotion. Spec: COLOR one of the 92 colours, DATE January 1st of 1993
-- to 1997, NATION any (validation: forest, 1994-01-01, CANADA). Cut at 1000 rows (it grows with
-- SF); s_name is unique, so the order is total.
SELECT
    s_name,
    s_address
FROM
    tpch.supplier,
    tpch.nation
WHERE
    s_suppkey IN (
        SELECT
            ps_suppkey
        FROM
            tpch.partsupp
        WHERE
            ps_partkey IN (
                SELECT
                    p_partkey
                FROM
                    tpch.part
                WHERE
                    p_name LIKE '{{color}}%')
                AND ps_availqty > (
                    SELECT
                        0.5 * sum(l_quantity)
                    FROM
                        tpch.lineitem
                    WHERE
                        l_partkey = ps_partkey
                        AND l_suppkey = ps_suppkey
                        AND l_shipdate >= DATE '{{year}}'
                        AND l_shipdate < DATE '{{year + 1y}}'))
            AND s_nationkey = n_nationkey
            AND n_name = '{{nation}}'
        ORDER BY
            s_name
LIMIT 1000
