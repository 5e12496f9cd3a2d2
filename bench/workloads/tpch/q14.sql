-- TPC-H Q14, promotion effect. Spec: DATE the first of a month from 1993-01 to 1997-12, and one
-- month on (validation: 1995-09-01).
SELECT
    100.00 * sum(
        CASE WHEN p_type LIKE 'PROMO%' THEN
            l_extendedprice * (1 - l_discount)
        ELSE
            0
        END) / sum(l_extendedprice * (1 - l_discount)) AS promo_revenue
FROM
    tpch.lineitem,
    tpch.part
WHERE
    l_partkey = p_partkey
    AND l_shipdate >= DATE '{{month}}'
    AND l_shipdate < DATE '{{month + 1m}}'
