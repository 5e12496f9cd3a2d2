-- TPC-H Q17, small-quantity-order revenue. Spec: BRAND Brand#MN (M, N in 1..5), CONTAINER
-- syllables 1 and 2 (validation: Brand#23, MED BOX).
SELECT
    sum(l_extendedprice) / 7.0 AS avg_yearly
FROM
    tpch.lineitem,
    tpch.part
WHERE
    p_partkey = l_partkey
    AND p_brand = 'Brand#{{brand_m}}{{brand_n}}'
    AND p_container = '{{container1}} {{container2}}'
    AND l_quantity < (
        SELECT
            0.2 * avg(l_quantity)
        FROM
            tpch.lineitem
        WHERE
            l_partkey = p_partkey)
