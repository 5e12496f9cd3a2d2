-- TPC-H Q13, customer distribution. Spec: WORD1 in special, pending, unusual, express; WORD2 in
-- packages, requests, accounts, deposits (validation: special, requests).
SELECT
    c_count,
    count(*) AS custdist
FROM (
    SELECT
        c_custkey,
        count(o_orderkey)
    FROM
        tpch.customer
    LEFT OUTER JOIN tpch.orders ON c_custkey = o_custkey
    AND o_comment NOT LIKE '%{{word1}}%{{word2}}%'
GROUP BY
    c_custkey) AS c_orders (c_custkey,
        c_count)
GROUP BY
    c_count
ORDER BY
    custdist DESC,
    c_count DESC
