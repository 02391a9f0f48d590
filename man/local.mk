dist_man_MANS += %D%/footprintd.8 %D%/footprintd.conf.5 %D%/footprint.1
