-- TPC-H Q22, global sales opportunity. Spec: I1..I7 seven different country codes in 10..34
-- (validation: 13, 31, 23, 29, 30, 18, 17).
SELECT
    cntrycode,
    count(*) AS numcust,
    sum(c_acctbal) AS totacctbal
FROM (
    SELECT
        substring(c_phone FROM 1 FOR 2) AS cntrycode,
        c_acctbal
    FROM
        tpch.customer
    WHERE
        substring(c_phone FROM 1 FOR 2) IN ({{codes}})
        AND c_acctbal > (
            SELECT
                avg(c_acctbal)
            FROM
                tpch.customer
            WHERE
                c_acctbal > 0.00
                AND substring(c_phone FROM 1 FOR 2) IN ({{codes}}))
            AND NOT EXISTS (
                SELECT
                    *
                FROM
                    tpch.orders
                WHERE
                    o_custkey = c_custkey)) AS custsale
GROUP BY
    cntrycode
ORDER BY
    cntrycode
