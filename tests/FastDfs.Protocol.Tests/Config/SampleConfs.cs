namespace FastDfs.Protocol.Tests.Config;

/// <summary>
/// Conf texts written in the style of the stock sample confs (comments above keys, empty values,
/// a trailing blank, log keys before an [error-log] header, [access-log], units and percentages).
/// </summary>
internal static class SampleConfs
{
    public const string Tracker = """
        # is this config file disabled
        # false for enabled, true for disabled
        disabled = false

        # bind an address of this host; empty for all addresses
        bind_addr =

        # the tracker server port
        port = 22122

        # IPv4, IPv6, auto or both
        address_family = auto
        response_ip_addr_size = auto

        # connect timeout in seconds
        connect_timeout = 5

        # network timeout in seconds for send and recv
        network_timeout = 60

        use_io_uring = false
        use_send_zc = true

        # the base path to store data and log files
        base_path = /opt/fastdfs/

        # max concurrent connections this server supports
        max_connections = 1024
        accept_threads = 1
        work_threads = 4

        # the min / max network buff size
        min_buff_size = 8KB
        max_buff_size = 128KB

        # the method for selecting group to upload files
        # 0: round robin
        # 1: specify group
        # 2: load balance, select the max free space group to upload file
        store_lookup = 2

        # which group to upload file, when store_lookup set to 1
        store_group = group2

        store_server = 0
        store_path = 0
        download_server = 0

        # reserved storage space for system or other applications.
        reserved_storage_space = 20%

        log_level = info
        run_by_group=
        run_by_user =

        # "host[01-08,20-25].domain.com", "192.168.5.64/26", can occur more than once
        allow_hosts = 10.0.0.[1-15]
        allow_hosts = 192.168.5.64/26

        # check storage server alive interval seconds
        check_active_interval = 120

        thread_stack_size = 256KB
        storage_ip_changed_auto_adjust = true
        storage_sync_file_max_delay = 86400
        storage_sync_file_max_time = 300

        # if use a trunk file to store several small files
        use_trunk_file = false 
        slot_min_size = 256
        slot_max_size = 1MB
        trunk_alloc_alignment_size = 256
        trunk_free_space_merge = true
        delete_unused_trunk_files = false
        trunk_file_size = 64MB
        trunk_create_file_advance = false
        trunk_create_file_time_base = 02:00
        trunk_create_file_interval = 86400
        trunk_create_file_space_threshold = 20G
        trunk_init_check_occupying = false
        trunk_init_reload_from_binlog = false
        trunk_compress_binlog_min_interval = 86400
        trunk_compress_binlog_interval = 86400
        trunk_compress_binlog_time_base = 03:00
        trunk_binlog_max_backups = 7

        # if use storage server ID instead of IP address
        use_storage_id = false
        storage_ids_filename = storage_ids.conf
        id_type_in_filename = id
        trust_storage_server_id = true
        store_slave_file_use_link = false

        use_connection_pool = true
        connection_pool_max_idle_time = 3600

        # HTTP port of the built-in server
        http.server_port = 8081

        # log settings
        sync_log_buff_interval = 1
        log_file_rotate_everyday = true
        log_file_rotate_time = 00:00
        log_file_compress_old = false
        log_file_compress_days_before = 7
        log_file_rotate_on_size = 0
        log_file_keep_days = 15
        log_file_delete_old_time = 01:30

        [error-log]
        # overrides the global log keys for the error log
        log_file_keep_days = 30
        log_file_rotate_on_size = 64MB

        [access-log]
        enabled = false
        """;

    public const string Storage = """
        disabled = false

        # the name of the group this storage server belongs to
        group_name = group1

        bind_addr =
        client_bind = true

        # the storage server port
        port = 23000
        address_family = auto

        connect_timeout = 5
        network_timeout = 60
        heart_beat_interval = 30
        stat_report_interval = 60

        # the base path to store data and log files
        base_path = /opt/fastdfs

        max_connections = 1024
        buff_size = 256KB
        accept_threads = 1
        work_threads = 4

        disk_rw_separated = true
        disk_reader_threads = 2
        disk_writer_threads = 1

        sync_min_threads = 1
        sync_max_threads = auto
        sync_wait_msec = 10
        sync_interval = 0
        sync_start_time = 00:00
        sync_end_time = 23:59
        write_mark_file_freq = 500
        disk_recovery_threads = 4

        # store path (disk or mount point) count
        store_path_count = 2
        store_path0 = /data/fastdfs0/
        store_path1 = /data/fastdfs1
        store_path1_readonly = yes

        subdir_count_per_path = 256

        # tracker_server can occur more than once
        tracker_server = 192.168.209.121:22122
        tracker_server = 192.168.209.122:22122
        tracker_server = 192.168.209.121:22122
        tracker_server = 10.0.0.5,172.16.0.5:22122
        tracker_server = [fe80::1]:22123
        tracker_server = 127.0.0.1:22122

        log_level = info
        run_by_group =
        run_by_user =
        allow_hosts = *

        file_distribute_path_mode = 0
        file_distribute_rotate_count = 100
        fsync_after_written_bytes = 0
        sync_binlog_buff_interval = 1
        sync_stat_file_interval = 60
        thread_stack_size = 512KB
        upload_priority = 10
        if_alias_prefix =

        check_file_duplicate = 0
        file_signature_method = hash
        key_namespace = FastDFS
        keep_alive = 0
        ##include /home/yuqing/fastdht/conf/fdht_servers.conf

        file_sync_skip_invalid_record = false
        use_connection_pool = true
        connection_pool_max_idle_time = 3600
        compress_binlog = true
        compress_binlog_time = 01:30
        check_store_path_mark = true

        http.server_port = 8889

        sync_log_buff_interval = 1
        log_file_rotate_everyday = true
        log_file_rotate_time = 00:00
        log_file_compress_old = false
        log_file_compress_days_before = 7
        log_file_rotate_on_size = 0
        log_file_keep_days = 15
        log_file_delete_old_time = 01:30

        [error-log]
        log_file_compress_old = true

        [access-log]
        # if enable the access log
        enabled = true
        time_precision = us
        log_file_keep_days = 3
        """;

    public const string Client = """
        # connect timeout in seconds
        connect_timeout = 5
        network_timeout = 60

        # the base path to store log files
        base_path = /opt/fastdfs

        # tracker_server can occur more than once
        tracker_server = 192.168.0.196:22122
        tracker_server = 192.168.0.197:22122

        log_level = info
        connect_first_by = last-connected
        use_connection_pool = true
        connection_pool_max_idle_time = 1800
        load_fdfs_parameters_from_tracker = false
        use_storage_id = true
        storage_ids_filename = storage_ids.conf

        # HTTP settings
        http.tracker_server_port = 8080

        # use "#include" directive to include HTTP other settings
        #include http.conf
        """;

    public const string Http = """
        # HTTP default content type
        http.default_content_type = application/octet-stream
        http.mime_types_filename = mime.types
        # if use token to anti-steal
        http.anti_steal.check_token = true
        http.anti_steal.token_ttl = 900
        http.anti_steal.secret_key = FastDFS1234567890
        """;
}
