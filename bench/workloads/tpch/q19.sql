-- TPC-H Q19, discounted revenue. Spec: QUANTITY1 in [1, 10], QUANTITY2 in [10, 20], QUANTITY3 in
-- [20, 30], BRAND1..3 Brand#MN (M, N in 1..5) (validation: 1, 10, 20, Brand#12, Brand#23,
-- Brand#34). 'AIR REG' is the spec's text (no row has it; the mode is 'REG AIR').
SELECT
    sum(l_extendedprice * (1 - l_discount)) AS revenue
FROM
    tpch.lineitem,
    tpch.part
WHERE (p_partkey = l_partkey
    AND p_brand = 'Brand#{{brand1_m}}{{brand1_n}}'
    AND p_container IN ('SM CASE', 'SM BOX', 'SM PACK', 'SM PKG')
    AND l_quantity >= {{quantity1}}
    AND l_quantity <= {{quantity1}} + 10
    AND p_size BETWEEN 1 AND 5
    AND l_shipmode IN ('AIR', 'AIR REG')
    AND l_shipinstruct = 'DELIVER IN PERSON')
    OR (p_partkey = l_partkey
        AND p_brand = 'Brand#{{brand2_m}}{{brand2_n}}'
        AND p_container IN ('MED BAG', 'MED BOX', 'MED PKG', 'MED PACK')
        AND l_quantity >= {{quantity2}}
        AND l_quantity <= {{quantity2}} + 10
        AND p_size BETWEEN 1 AND 10
        AND l_shipmode IN ('AIR', 'AIR REG')
        AND l_shipinstruct = 'DELIVER IN PERSON')
    OR (p_partkey = l_partkey
        AND p_brand = 'Brand#{{brand3_m}}{{brand3_n}}'
        AND p_container IN ('LG CASE', 'LG BOX', 'LG PACK', 'LG PKG')
        AND l_quantity >= {{quantity3}}
        AND l_quantity <= {{quantity3}} + 10
        AND p_size BETWEEN 1 AND 15
        AND l_shipmode IN ('AIR', 'AIR REG')
        AND l_shipinstruct = 'DELIVER IN PERSON')
