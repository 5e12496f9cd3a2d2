// A JDBC client for the integration tests (tests/integration/test_jdbc.py): connects with a real
// driver (pgjdbc or the Trino JDBC driver, whichever the URL names), runs one section and prints
// what it got as tab-separated lines that the Python test compares with lakerouter's HTTP API.
//
//   java -cp <jars>:<classes> JdbcProbe <section> <jdbc-url> <user> <password|-> [args...]
//
// Output lines (fields escaped: \t \n \\ as backslash sequences, SQL NULL as \N):
//   section <name>              cols <name>...              types <type name>...
//   row <value>...              info <key> <value>
//   error <SQLState> <position|-> <message> <vendor code>   (position: pgjdbc 1-based offset, Trino line:column)
// Values are canonical text: integers and decimals as plain digits (decimals keep their scale),
// DATE yyyy-mm-dd, TIMESTAMP yyyy-mm-ddThh:mm:ss[.ffffff], booleans true/false.
// Exit status 0 whenever the section ran to the end, errors included (they are printed).

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public final class JdbcProbe {
  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");

  // The queries; test_jdbc.py runs the same text over the HTTP API.
  static final String PLAIN_SQL =
      "SELECT 1 AS one, 'two' AS two, CAST(3.50 AS DECIMAL(10,2)) AS three, DATE '2024-02-29' AS d, "
      + "TIMESTAMP '2024-02-29 13:45:00.123456' AS ts, TRUE AS b, CAST(NULL AS INTEGER) AS n, "
      + "CAST(9007199254740993 AS BIGINT) AS big";
  static final String PREPARED_SQL =
      "SELECT CAST(? AS INTEGER) + 1 AS i, CAST(? AS VARCHAR) AS t, CAST(? AS DECIMAL(12,2)) AS n, "
      + "CAST(? AS DATE) AS d, CAST(? AS TIMESTAMP) AS ts, CAST(? AS BOOLEAN) AS b, CAST(? AS INTEGER) AS z";
  static final int PREPARED_RUNS = 8;  // more than pgjdbc's prepareThreshold (5)

  private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
      StandardCharsets.UTF_8);

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: JdbcProbe <section> <jdbc-url> <user> <password|-> [args...]");
      System.exit(2);
    }
    String section = args[0];
    Properties props = new Properties();
    props.setProperty("user", args[2]);
    if (!args[3].equals("-")) {
      props.setProperty("password", args[3]);
    }
    print("section", section);
    try (Connection c = DriverManager.getConnection(args[1], props)) {
      print("info", "driver", c.getMetaData().getDriverName() + " " + c.getMetaData().getDriverVersion());
      switch (section) {
        case "plain" -> query(c, PLAIN_SQL);
        case "sql" -> query(c, args[4]);
        case "prepared" -> prepared(c);
        case "metadata" -> metadata(c, args[4], args[5]);
        case "fetch" -> fetch(c, args[4], Integer.parseInt(args[5]));
        case "error" -> query(c, args[4]);
        default -> throw new IllegalArgumentException("unknown section " + section);
      }
    } catch (SQLException e) {
      printError(e);
    }
    OUT.flush();
  }

  // --- sections ----------------------------------------------------------------------------------

  static void query(Connection c, String sql) {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      dump(rs, true);
    } catch (SQLException e) {
      printError(e);
    }
  }

  static void prepared(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(PREPARED_SQL)) {
      for (int k = 0; k < PREPARED_RUNS; k++) {
        ps.setInt(1, 41 + k);
        ps.setString(2, "text " + k + " ünï");
        ps.setBigDecimal(3, new BigDecimal("1234.5").add(BigDecimal.valueOf(k)));
        ps.setDate(4, Date.valueOf(LocalDate.of(2024, 1, 1 + k)));
        ps.setTimestamp(5, Timestamp.valueOf(LocalDateTime.of(2024, 3, 1, 12, 0, k, 500_000_000)));
        ps.setBoolean(6, k % 2 == 0);
        ps.setNull(7, Types.INTEGER);
        try (ResultSet rs = ps.executeQuery()) {
          dump(rs, k == 0);
        }
      }
      if (ps.isWrapperFor(org.postgresql.PGStatement.class)) {
        // true once pgjdbc switched to a named server-side statement (Parse once, Bind/Execute)
        print("info", "server_prepared", String.valueOf(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare()));
      }
    }
  }

  static void metadata(Connection c, String schema, String table) {
    DatabaseMetaData md;
    try {
      md = c.getMetaData();
    } catch (SQLException e) {
      printError(e);
      return;
    }
    print("info", "part", "tables");
    try (ResultSet rs = md.getTables(null, schema, table, null)) {
      while (rs.next()) {
        print("row", rs.getString("TABLE_SCHEM"), rs.getString("TABLE_NAME"), rs.getString("TABLE_TYPE"));
      }
    } catch (SQLException e) {
      printError(e);
    }
    print("info", "part", "columns");
    try (ResultSet rs = md.getColumns(null, schema, table, null)) {
      while (rs.next()) {
        print("row", rs.getString("COLUMN_NAME"), String.valueOf(rs.getInt("ORDINAL_POSITION")),
            rs.getString("TYPE_NAME"), String.valueOf(rs.getInt("DATA_TYPE")));
      }
    } catch (SQLException e) {
      printError(e);
    }
  }

  // A cursor: autocommit off and a fetch size, so that pgjdbc executes the portal in chunks
  // (Execute with a row limit, PortalSuspended) instead of reading the whole result at once.
  static void fetch(Connection c, String sql, int fetchSize) throws SQLException {
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.setFetchSize(fetchSize);
      try (ResultSet rs = s.executeQuery(sql)) {
        long rows = 0;
        BigDecimal sum = BigDecimal.ZERO;
        while (rs.next()) {
          rows++;
          sum = sum.add(new BigDecimal(rs.getString(1)));
        }
        print("info", "rows", String.valueOf(rows));
        print("info", "sum", sum.toPlainString());
      }
      c.commit();
    } catch (SQLException e) {
      printError(e);
    }
  }

  // --- output ------------------------------------------------------------------------------------

  static void dump(ResultSet rs, boolean header) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    int n = md.getColumnCount();
    if (header) {
      List<String> cols = new ArrayList<>(List.of("cols"));
      List<String> types = new ArrayList<>(List.of("types"));
      for (int i = 1; i <= n; i++) {
        cols.add(md.getColumnLabel(i));
        types.add(md.getColumnTypeName(i));
      }
      print(cols.toArray(new String[0]));
      print(types.toArray(new String[0]));
    }
    while (rs.next()) {
      List<String> row = new ArrayList<>(List.of("row"));
      for (int i = 1; i <= n; i++) {
        row.add(canonical(rs, i, md.getColumnType(i)));
      }
      print(row.toArray(new String[0]));
    }
  }

  static String canonical(ResultSet rs, int i, int sqlType) throws SQLException {
    Object v;
    switch (sqlType) {
      case Types.DATE -> v = rs.getDate(i);
      case Types.TIMESTAMP -> v = rs.getTimestamp(i);
      default -> v = rs.getObject(i);
    }
    if (v == null || rs.wasNull()) {
      return null;
    }
    if (v instanceof BigDecimal d) {
      return d.toPlainString();
    }
    if (v instanceof Timestamp t) {
      return timestamp(t.toLocalDateTime());
    }
    if (v instanceof LocalDateTime t) {
      return timestamp(t);
    }
    if (v instanceof Date d) {
      return d.toLocalDate().toString();
    }
    return v.toString();
  }

  static String timestamp(LocalDateTime t) {
    String s = t.format(SECONDS);
    int micros = t.getNano() / 1000;
    return micros == 0 ? s : s + String.format(".%06d", micros);
  }

  static void printError(SQLException e) {
    String position = "-";
    if (e instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null) {
      position = String.valueOf(p.getServerErrorMessage().getPosition());  // 1-based character
    } else if (e.getCause() instanceof io.trino.jdbc.$internal.client.FailureException f
        && f.getFailureInfo() != null && f.getFailureInfo().getErrorLocation() != null) {
      var loc = f.getFailureInfo().getErrorLocation();  // 1-based line and column
      position = loc.getLineNumber() + ":" + loc.getColumnNumber();
    }
    print("error", e.getSQLState(), position, e.getMessage(), String.valueOf(e.getErrorCode()));
  }

  static void print(String... fields) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < fields.length; i++) {
      if (i > 0) {
        sb.append('\t');
      }
      String f = fields[i];
      if (f == null) {
        sb.append("\\N");
        continue;
      }
      for (char ch : f.toCharArray()) {
        switch (ch) {
          case '\t' -> sb.append("\\t");
          case '\n' -> sb.append("\\n");
          case '\\' -> sb.append("\\\\");
          default -> sb.append(ch);
        }
      }
    }
    OUT.println(sb);
  }
}
