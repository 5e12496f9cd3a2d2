-- TPC-H Q16, parts/supplier relationship. Spec: BRAND Brand#MN (M, N in 1..5), TYPE syllables 1
-- and 2, SIZE1..8 eight different sizes in 1..50 (validation: Brand#45, MEDIUM POLISHED,
-- 49, 14, 23, 45, 19, 3, 36, 9). The result grows with SF (18,314 rows at SF 1), so it is cut at
-- 1000 rows; the ORDER BY holds every group key, so the cut is total.
SELECT
    p_brand,
    p_type,
    p_size,
    count(DISTINCT ps_suppkey) AS supplier_cnt
FROM
    tpch.partsupp,
    tpch.part
WHERE
    p_partkey = ps_partkey
    AND p_brand <> 'Brand#{{brand_m}}{{brand_n}}'
    AND p_type NOT LIKE '{{type1}} {{type2}}%'
    AND p_size IN ({{sizes}})
    AND ps_suppkey NOT IN (
        SELECT
            s_suppkey
        FROM
            tpch.supplier
        WHERE
            s_comment LIKE '%Customer%Complaints%')
GROUP BY
    p_brand,
    p_type,
    p_size
ORDER BY
    supplier_cnt DESC,
    p_brand,
    p_type,
    p_size
LIMIT 1000
