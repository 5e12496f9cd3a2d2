-- TPC-H Q1, pricing summary report. Spec: DELTA in [60, 120] days; the cutoff 1998-12-01 - DELTA
-- is computed when rendering (validation: DELTA 90, cutoff 1998-09-02).
SELECT
    l_returnflag,
    l_linestatus,
    sum(l_quantity) AS sum_qty,
    sum(l_extendedprice) AS sum_base_price,
    sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
    sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
    avg(l_quantity) AS avg_qty,
    avg(l_extendedprice) AS avg_price,
    avg(l_discount) AS avg_disc,
    count(*) AS count_order
FROM
    tpch.lineitem
WHERE
    l_shipdate <= DATE '{{cutoff}}'
GROUP BY
    l_returnflag,
    l_linestatus
ORDER BY
    l_returnflag,
    l_linestatus
